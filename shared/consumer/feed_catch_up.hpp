#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "shared/common/metrics.hpp"
#include "shared/common/settings.hpp"
#include "shared/consumer/apply_outcomes.hpp"
#include "shared/consumer/event_handler.hpp"
#include "shared/redis/redis_sync.hpp"

namespace offers {

// A page of the feed that does not parse, or an event whose effect failed: the catch-up stops
// (the process does not) and says which page or event.
class CatchUpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The Redis hash that records a subscriber's catch-up: "state" is "running" or "done",
// "position" the last sequence number applied from the feed.
std::string catch_up_marker(const std::string& subscriber);

// Rebuilds a subscriber's state from special-offers' event feed (GET /events, page by page,
// following Link rel="next"). Every event goes through the subscriber's apply-once script, the
// one its consumer uses, with the message id special-offers-<sequenceNumber>: an event that also
// comes through the queue is then a duplicate (or stale), never a second effect. Each batch
// records the position in the marker in the same atomic step as its effects, so a catch-up that
// dies half-way continues from there, and everything it applied is applied once.
//
// Blocking: it runs on a thread of its own (or a tool's main thread) with its own HTTP and Redis
// connections. An unreachable feed or Redis is retried with backoff until `stop` is set.
class FeedCatchUp {
 public:
  FeedCatchUp(const SubscriberSettings& settings, std::string subscriber, EventHandler& handler,
              Metrics& metrics, const std::atomic<bool>& stop);

  // Where to start: nullopt when the store already holds a record of events (or a finished
  // catch-up), else the position to continue from (0 for an empty store). Decided and recorded in
  // one atomic step. Retries while Redis is unreachable; nullopt as well when stopped.
  std::optional<int64_t> begin();
  // Reads and applies the feed after `from` until it is exhausted (true) or stop is set (false).
  // Throws CatchUpError. on_page runs after each page is applied.
  bool run(int64_t from, const std::function<void()>& on_page = {});
  // Records that the store now holds the history: later starts do not catch up again.
  void finish();
  // Deletes what the subscriber built from events (the handler's keys, its dedupe keys and the
  // marker), for a rebuild; returns the number of keys deleted.
  long long clear_store();

  int64_t position() const { return position_.load(); }
  uint64_t applied() const { return outcomes_.applied(); }
  uint64_t seen() const { return seen_.load(); }

 private:
  // Runs f until it does not throw RedisError, waiting with backoff in between; false if stopped.
  template <typename F>
  bool with_redis(F&& f);
  bool wait_backoff(std::chrono::milliseconds& delay);
  void apply(const std::vector<Event>& events, const std::string& page);

  SubscriberSettings settings_;
  std::string name_;
  EventHandler& handler_;
  const std::atomic<bool>& stop_;
  LuaScript script_;
  std::vector<std::string> handler_keys_;
  std::string marker_;
  SyncRedis redis_;
  std::atomic<int64_t> position_{0};
  std::atomic<uint64_t> seen_{0};

  Gauge& position_gauge_;
  ApplyOutcomes outcomes_;
};

}  // namespace offers
