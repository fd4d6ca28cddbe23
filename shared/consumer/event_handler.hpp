#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "shared/common/envelope.hpp"

namespace offers {

// The Redis writes of one event, as arguments of the subscriber's apply script.
struct Effect {
  std::vector<std::string> args;
};

// A subscriber's business logic. The consumer runtime runs the effect of each event exactly once:
// for every event, one Lua script checks the dedupe key, runs apply() and sets the key, with no
// other command in between, and the delivery is acknowledged only after Redis answered. The
// events read together from the broker go to Redis as one script call. A handler that throws (in
// C++ or in Lua) fails that delivery alone; it is retried later through the subscriber's retry
// queue and dead-lettered after the last try.
class EventHandler {
 public:
  virtual ~EventHandler() = default;
  // The keys every effect may write, the same for every event (a script call names them once).
  virtual std::vector<std::string> keys() const = 0;
  // Lua that defines `local function apply(K, A)`, returning 'applied', 'stale' or 'ignored',
  // where K is keys() and A the event's Effect args (K[1], A[1] first). It must check
  // everything before its first write: Redis does not roll back.
  // For order-dependent effects it can call moves_forward(seq_key, stale_key, id, seq), seq being
  // the sequence number as a string: false (and the stale count raised) when an event for that
  // offer with this or a later sequence number was already applied, else true with seq recorded.
  // Locals defined outside apply() live for one script call, that is one batch of events; the
  // script may assign `finish = function() ... end` to write what it gathered once per batch.
  virtual const std::string& apply_script() const = 0;
  virtual Effect effect(const Event& event, const std::string& message_id) = 0;
  // Whether a subscriber with an empty store reads the whole event feed first when CATCH_UP is
  // not set: yes for a read model, no where replaying history would act on the past again.
  virtual bool catches_up_by_default() const { return true; }
};

// The apply-once script for a handler's apply() body. It takes a batch of events:
// KEYS = the handler's keys(), then each event's dedupe key, then (catch-up only) the catch-up
// marker;
// ARGV = the dedupe TTL in seconds, the number of handler keys, the catch-up position ('' for
// deliveries from the queue; else written to the marker's "position" field in the same atomic
// step, unless an event failed), then per event: its arg count and its Effect args.
// It returns one result per event: 'applied', 'stale', 'ignored', 'duplicate' or
// 'error: <message>' (that event's apply() raised; nothing else in the batch is affected).
std::string apply_once_script(const std::string& apply_body);

// Short lower-case name of an event kind, as the apply scripts see it.
const char* kind_name(EventKind kind);

}  // namespace offers
