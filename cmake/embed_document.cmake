# cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DFUNCTION=<name> -P embed_document.cmake
# Writes a C++ source whose offers::api::<FUNCTION>() returns the file's bytes, so a service
# serves the document from api/ as it was at build time.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
# Line breaks every 16 bytes keep the generated file readable by editors and compilers alike.
string(REGEX REPLACE "(('[^']+',){16})" "\\1\n    " bytes "${bytes}")
get_filename_component(name "${INPUT}" NAME)
file(WRITE "${OUTPUT}"
  "// Generated from api/${name} by cmake/embed_document.cmake; do not edit.\n"
  "#include <string_view>\n\n"
  "namespace offers::api {\n\n"
  "namespace {\n"
  "constexpr char kDocument[] = {\n    ${bytes}'\\0'};\n"
  "}  // namespace\n\n"
  "std::string_view ${FUNCTION}() { return {kDocument, ${size}}; }\n\n"
  "}  // namespace offers::api\n")
