#include "shared/common/numbers.hpp"

#include <charconv>

namespace offers {

std::optional<int64_t> parse_non_negative(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_positive_id(std::string_view text) {
  auto v = parse_non_negative(text);
  if (!v || *v == 0) return std::nullopt;
  return v;
}

}  // namespace offers
