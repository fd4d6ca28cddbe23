#include "shared/json.hpp"

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

// The offset at which text nests deeper than kMaxJsonDepth, or npos. Brackets inside strings
// do not count; whether the text is JSON at all is the parser's business.
size_t too_deep_at(std::string_view text) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

bool parse_json(std::string_view text, rapidjson::Document& doc, std::string& error) {
  if (const auto at = too_deep_at(text); at != std::string_view::npos) {
    error = "invalid JSON at offset " + std::to_string(at) + ": nested deeper than " +
            std::to_string(kMaxJsonDepth) + " levels";
    return false;
  }
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
