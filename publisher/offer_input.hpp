#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// A path or query id: a positive decimal integer that fits in int64.
std::optional<int64_t> parse_positive_id(std::string_view text);
// A non-negative decimal integer that fits in int64.
std::optional<int64_t> parse_non_negative(std::string_view text);

// Number of Unicode code points in valid UTF-8 text.
size_t utf8_length(std::string_view s);

}  // namespace offers
