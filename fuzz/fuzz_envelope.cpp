// The event envelope parser, fed anything a broker could deliver; a parsed event must survive a
// round trip through the builder.
#include <cstdlib>
#include <string_view>

#include "shared/common/envelope.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parsed = offers::parse_event({reinterpret_cast<const char*>(data), size});
  if (!parsed.event) return 0;
  const auto& e = *parsed.event;
  if (e.sequence_number < 1) std::abort();
  if (e.kind != offers::EventKind::Created) return 0;
  const auto again = offers::parse_event(
      offers::build_event_json(e.sequence_number, e.occurred_at, e.name,
                               offers::build_offer_json(e.offer.id, e.offer.description)));
  if (!again.event || again.event->offer.id != e.offer.id ||
      again.event->offer.description != e.offer.description)
    std::abort();
  return 0;
}
