#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shared/common/numbers.hpp"

namespace offers {

// A validated body of POST /offers or PUT /offers/<id>.
struct OfferInput {
  std::string description;
};

struct OfferInputCheck {
  std::optional<OfferInput> input;
  std::string error;  // set when input is empty; the reply is 400 with this message
};

OfferInputCheck check_offer_body(std::string_view body);

// Number of Unicode code points in valid UTF-8 text.
size_t utf8_length(std::string_view s);

}  // namespace offers
