#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/redis/redis_sync.hpp"

namespace offers {

// Redis keys of special-offers. The event log is a list whose index is sequenceNumber - 1, so
// sequence numbers are gapless; the meta list beside it holds "<name> <correlation id>".
namespace keys {
inline constexpr const char* kOffers = "special-offers:offers";
inline constexpr const char* kNextOfferId = "special-offers:next_offer_id";
inline constexpr const char* kEventLog = "special-offers:events";
inline constexpr const char* kEventMeta = "special-offers:event_meta";
inline constexpr const char* kRelayCursor = "special-offers:relay_confirmed";
inline constexpr const char* kIdempotencyPrefix = "special-offers:idempotency:";
}  // namespace keys

// One event of the outbox as the relay publishes it.
struct OutboxEvent {
  int64_t sequence_number = 0;
  std::string body;
  std::string meta;  // "<name> <correlation id>"
};

// Reads of the offers and the outbox (writes: see offer_writes.hpp). Used from HTTP threads;
// throws RedisError when Redis is unreachable.
class OfferStore {
 public:
  explicit OfferStore(RedisPool& pool) : pool_(pool) {}

  std::optional<std::string> get(int64_t id);
  std::vector<std::string> all();  // ordered by id
  // Events with start <= sequenceNumber < end, at most limit of them, as JSON bodies; more says
  // whether the range holds further events, from sequence number next on, and last is the
  // newest event's number. One bounded read.
  struct EventPage {
    std::vector<std::string> events;
    int64_t next = 0;
    int64_t last = 0;
    bool more = false;
  };
  EventPage events(int64_t start, int64_t end, int64_t limit);
  int64_t event_count();
  int64_t relay_cursor();
  void ping();

 private:
  RedisPool& pool_;
};

}  // namespace offers
