#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "shared/envelope.hpp"

namespace offers {

// The Redis writes of one event, as arguments of the subscriber's apply script.
struct Effect {
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

// A subscriber's business logic. The consumer runtime runs the effect of each event exactly once:
// one Lua script checks the dedupe key, runs apply() and sets the key, atomically, and the
// delivery is acknowledged only after Redis answered. A handler that throws fails the delivery;
// it is retried later through the subscriber's retry queue and dead-lettered after the last try.
class EventHandler {
 public:
  virtual ~EventHandler() = default;
  // Lua that defines `local function apply()`, returning 'applied', 'stale' or 'ignored'.
  // Its keys start at KEYS[2] and its arguments at ARGV[2] (KEYS[1] and ARGV[1] are the dedupe
  // key and its TTL). It must check everything before its first write: Redis does not roll back.
  // For order-dependent effects it can call moves_forward(seq_key, stale_key, id, seq): false
  // (and the stale count raised) when an event for that offer with this or a later sequence
  // number was already applied, else true with seq recorded.
  virtual const std::string& apply_script() const = 0;
  virtual Effect effect(const Event& event, const std::string& message_id) = 0;
};

// The whole apply-once script for a handler's apply() body.
std::string apply_once_script(const std::string& apply_body);

// Short lower-case name of an event kind, as the apply scripts see it.
const char* kind_name(EventKind kind);

}  // namespace offers
