#include "shared/common/json.hpp"

#include <rapidjson/error/en.h>

namespace offers {

std::string json_quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of a \uXXXX escape starting at text[i] (the backslash), or -1.
int escaped_unit(std::string_view text, size_t i) {
  if (i + 5 >= text.size() || text[i + 1] != 'u') return -1;
  int v = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const int h = hex_value(text[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// What rapidjson 1.1 lets through and this system must not: nesting deeper than kMaxJsonDepth
// (its recursive users would overflow the stack) and a low surrogate escape without its high
// half (it would decode to invalid UTF-8). Empty when the text has neither; whether it is JSON
// at all is the parser's business.
std::string prescan_error(std::string_view text) {
  size_t depth = 0;
  bool in_string = false, after_high = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        const int unit = escaped_unit(text, i);
        if (unit >= 0xDC00 && unit <= 0xDFFF && !after_high)
          return "invalid JSON at offset " + std::to_string(i) + ": lone low surrogate";
        after_high = unit >= 0xD800 && unit <= 0xDBFF;
        i += unit >= 0 ? 5 : 1;
        continue;
      }
      after_high = false;
      if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return "invalid JSON at offset " + std::to_string(i) + ": nested deeper than " +
               std::to_string(kMaxJsonDepth) + " levels";
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return {};
}

}  // namespace

bool parse_json(std::string_view text, rapidjson::Document& doc, std::string& error) {
  if (error = prescan_error(text); !error.empty()) return false;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                    text.size());
  if (doc.HasParseError()) {
    error = std::string("invalid JSON at offset ") + std::to_string(doc.GetErrorOffset()) + ": " +
            rapidjson::GetParseError_En(doc.GetParseError());
    return false;
  }
  return true;
}

bool parse_json_object(std::string_view body, rapidjson::Document& doc, std::string& error) {
  std::string why;
  if (!parse_json(body, doc, why)) {
    error = "body is not valid JSON: " + why;
    return false;
  }
  if (!doc.IsObject()) {
    error = "body must be a JSON object";
    return false;
  }
  return true;
}

std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    out += items[i];
  }
  return out + "]";
}

std::string error_body(std::string_view message) {
  return "{\"error\":" + json_quote(message) + "}";
}

}  // namespace offers
