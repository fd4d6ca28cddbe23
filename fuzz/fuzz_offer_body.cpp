// The body of POST /offers and PUT /offers/<id>: an accepted description is 1 to 1000 code points
// and makes an event every subscriber can read.
#include <cstdlib>
#include <string_view>

#include "publisher/offer_input.hpp"
#include "shared/common/envelope.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto check = offers::check_offer_body({reinterpret_cast<const char*>(data), size});
  if (check.input) {
    const size_t n = offers::utf8_length(check.input->description);
    if (n == 0 || n > offers::kMaxDescriptionLength) std::abort();
    const auto event =
        offers::build_event_json(1, "2026-11-21T10:00:00.000Z", offers::kOfferCreated,
                                 offers::build_offer_json(1, check.input->description));
    if (!offers::parse_event(event).event) std::abort();
  } else if (check.error.empty()) {
    std::abort();
  }
  return 0;
}
