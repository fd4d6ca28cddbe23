#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace offers {

struct UserInput {
  std::string name;
  std::vector<std::string> interests;
};

struct UserInputCheck {
  std::optional<UserInput> input;
  std::string error;
};

// Body of POST /users and PUT /users/<id>:
// {"name": "...", "settings": {"interests": ["coffee", ...]}}; settings and interests optional.
UserInputCheck check_user_body(std::string_view body);

// The stored form of a user's settings.
std::string settings_json(const std::vector<std::string>& interests);

// Whether description contains one of the interests, ignoring ASCII case.
bool matches_interest(std::string_view description, const std::vector<std::string>& interests);

}  // namespace offers
