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

bool parse_json(std::string_view text, rapidjson::Document& doc, std::string& error) {
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
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
