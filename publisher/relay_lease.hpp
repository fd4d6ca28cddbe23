#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "shared/common/metrics.hpp"
#include "shared/common/uv_handles.hpp"
#include "shared/redis/redis_async.hpp"

namespace offers {

namespace keys {
inline constexpr const char* kRelayLease = "relay:lease";
// INCR gives every new holder a larger fencing token than any before it.
inline constexpr const char* kRelayFence = "relay:fence";
}  // namespace keys

// The right of one special-offers replica to publish: the key relay:lease holds
// "<token>:<owner>" for the lease period. The holder renews it every third of the period and
// counts itself the holder only until the period, less a safety margin, has passed by its own
// clock since it sent the last successful renewal, so a holder that cannot renew (Redis gone, the
// process paused) stops before Redis can hand the lease to another. Writes that must come from
// the holder alone check value() inside their own Redis script (fencing): a holder that lost the
// lease, however late it notices, cannot move what they guard.
//
// A process whose owner name equals the holder's takes the lease over at once with a new token:
// a restarted process (same host and port) does not wait for its predecessor's lease to expire,
// and its predecessor, if it was only paused, is fenced off by the new token.
class RelayLease {
 public:
  // on_change(true) starts a new term (a new token: everything from an earlier term is void);
  // on_change(false) ends it.
  RelayLease(uv_loop_t* loop, AsyncRedis& redis, std::string owner,
             std::chrono::milliseconds period, Metrics& metrics,
             std::function<void(bool active)> on_change);

  void start();
  // Tries at once (Redis just came back).
  void attempt_now();
  // Ends the term and deletes the key if it is still this holder's, then calls done.
  void release(std::function<void()> done);
  void stop();
  // The holder's view: a term is running and its end is not near by this process's clock.
  bool valid() const;
  // The key's value for fenced writes; empty outside a term.
  const std::string& value() const { return value_; }
  // The fencing token of the current term (0 outside one) and of the term before it.
  int64_t token() const { return token_; }
  int64_t previous_token() const { return previous_token_; }
  // A fenced write was refused: someone else holds the lease.
  void lost(const std::string& why);

 private:
  void attempt();
  void on_reply(redisReply* r, std::chrono::steady_clock::time_point sent);
  void end_term(const std::string& why);
  void schedule(std::chrono::milliseconds delay);

  AsyncRedis& redis_;
  std::string owner_;
  std::chrono::milliseconds period_;
  std::chrono::milliseconds margin_;
  std::function<void(bool)> on_change_;
  Timer attempt_timer_;
  Timer expiry_timer_;
  bool in_flight_ = false;
  bool stopped_ = true;
  std::string value_;
  int64_t token_ = 0;
  int64_t previous_token_ = 0;
  std::chrono::steady_clock::time_point valid_until_{};
  Gauge& active_;
  Counter& takeovers_;
  Counter& requests_;
};

}  // namespace offers
