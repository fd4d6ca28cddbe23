#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace offers {

// A non-negative decimal integer that fits in int64, nothing else (no sign, no spaces).
std::optional<int64_t> parse_non_negative(std::string_view text);
// The same, above zero: path ids.
std::optional<int64_t> parse_positive_id(std::string_view text);

}  // namespace offers
