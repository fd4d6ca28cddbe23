// The body of POST /users and PUT /users/<id> in loyalty.
#include <cstdlib>
#include <string_view>

#include "subscribers/loyalty/user_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto check = offers::check_user_body({reinterpret_cast<const char*>(data), size});
  if (check.input) {
    offers::settings_json(check.input->interests);
    offers::matches_interest("Two coffees for one", check.input->interests);
  } else if (check.error.empty()) {
    std::abort();
  }
  return 0;
}
