#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace offers {

inline constexpr std::string_view kOfferCreated = "SpecialOfferCreated";
inline constexpr std::string_view kOfferUpdated = "SpecialOfferUpdated";
inline constexpr std::string_view kOfferRemoved = "SpecialOfferRemoved";
inline constexpr int kSchemaVersion = 1;
inline constexpr size_t kMaxDescriptionLength = 1000;
// Far above any event this system writes; a larger message is malformed and not parsed.
inline constexpr size_t kMaxEventBytes = 1024 * 1024;
// An event carries a handful of headers (x-schema-version, x-retry-count, x-death...).
inline constexpr size_t kMaxMessageHeaders = 64;

struct Offer {
  int64_t id = 0;
  std::string description;
  std::string json;  // the offer as received, extra fields included
};

enum class EventKind { Created, Updated, Removed, Unknown };

// A validated event body. For Unknown events only the envelope fields are checked.
struct Event {
  int64_t sequence_number = 0;
  std::string occurred_at;
  std::string name;
  EventKind kind = EventKind::Unknown;
  Offer offer;                     // Created: the offer; Updated: newOffer; Removed: the offer
  std::optional<Offer> old_offer;  // Updated only
};

struct EventParse {
  std::optional<Event> event;
  std::string error;  // set when event is empty
};

EventParse parse_event(std::string_view body);

// The contract body. content_json must already be valid JSON.
std::string build_event_json(int64_t sequence_number, std::string_view occurred_at,
                             std::string_view name, std::string_view content_json);
std::string build_offer_json(int64_t id, std::string_view description);

std::string message_id_for(int64_t sequence_number);

}  // namespace offers
