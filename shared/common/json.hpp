#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>
#include <vector>

namespace offers {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The JSON string literal for s, quotes included.
std::string json_quote(std::string_view s);

// Serialises a RapidJSON value.
std::string to_json(const rapidjson::Value& v);

// No document of this system nests deeper; deeper text is refused before it is parsed.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses text; on failure returns false and says where and why in error.
bool parse_json(std::string_view text, rapidjson::Document& doc, std::string& error);

// A request body that must be a JSON object; error says what is wrong in words for a 400 reply.
bool parse_json_object(std::string_view body, rapidjson::Document& doc, std::string& error);

// A JSON array of values that are JSON already.
std::string json_array(const std::vector<std::string>& items);

// {"error": message}
std::string error_body(std::string_view message);

}  // namespace offers
