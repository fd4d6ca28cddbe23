// Ids in paths and numbers in queries (/offers/<id>, /events?start=&end=, ?limit=).
#include <cstdlib>
#include <string>
#include <string_view>

#include "shared/common/numbers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto n = offers::parse_non_negative(text);
  if (n && (*n < 0 || offers::parse_non_negative(std::to_string(*n)) != n)) std::abort();
  const auto id = offers::parse_positive_id(text);
  if (id && (*id < 1 || id != n)) std::abort();
  return 0;
}
