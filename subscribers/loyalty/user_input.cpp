#include "subscribers/loyalty/user_input.hpp"

#include <algorithm>
#include <cctype>

#include "shared/common/json.hpp"

namespace offers {

UserInputCheck check_user_body(std::string_view body) {
  UserInputCheck r;
  rapidjson::Document doc;
  if (!parse_json_object(body, doc, r.error)) return r;
  const auto name = doc.FindMember("name");
  if (name == doc.MemberEnd() || !name->value.IsString()) {
    r.error = "name is required and must be a string";
    return r;
  }
  UserInput u;
  u.name.assign(name->value.GetString(), name->value.GetStringLength());
  if (u.name.find_first_not_of(" \t\r\n") == std::string::npos || u.name.size() > 200) {
    r.error = "name must be 1 to 200 characters";
    return r;
  }
  const auto settings = doc.FindMember("settings");
  if (settings != doc.MemberEnd()) {
    if (!settings->value.IsObject()) {
      r.error = "settings must be an object";
      return r;
    }
    const auto interests = settings->value.FindMember("interests");
    if (interests != settings->value.MemberEnd()) {
      if (!interests->value.IsArray() || interests->value.Size() > 50) {
        r.error = "settings.interests must be an array of at most 50 strings";
        return r;
      }
      for (const auto& i : interests->value.GetArray()) {
        if (!i.IsString() || i.GetStringLength() == 0 || i.GetStringLength() > 100) {
          r.error = "settings.interests must hold strings of 1 to 100 characters";
          return r;
        }
        u.interests.emplace_back(i.GetString(), i.GetStringLength());
      }
    }
  }
  r.input = std::move(u);
  return r;
}

std::string settings_json(const std::vector<std::string>& interests) {
  std::string out = "{\"interests\":[";
  for (size_t i = 0; i < interests.size(); ++i) {
    if (i) out += ",";
    out += json_quote(interests[i]);
  }
  return out + "]}";
}

bool matches_interest(std::string_view description, const std::vector<std::string>& interests) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  };
  const std::string d = lower(description);
  return std::any_of(interests.begin(), interests.end(),
                     [&](const std::string& i) { return d.find(lower(i)) != std::string::npos; });
}

}  // namespace offers
