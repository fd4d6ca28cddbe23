#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "publisher/handover.hpp"
#include "publisher/offer_writes.hpp"
#include "shared/common/metrics.hpp"
#include "shared/common/settings.hpp"
#include "shared/common/uv_handles.hpp"
#include "shared/redis/redis_async.hpp"

namespace offers {

inline constexpr std::chrono::seconds kWriteWait{2};

// Runs the offer writes of the request threads on one libuv loop, over one pipelined Redis
// connection: no request thread waits on Redis, and the writes that reach Redis together share
// one fsync of its append-only file. Replies come back in commit order; each committed event
// goes to the relay (HandOver) before the request is answered. While the connection is down
// (start-up, a Redis restart) writes wait for it up to kWriteWait, then fail. With
// REDIS_MIN_REPLICAS a write counts as done only once enough replicas have it (one WAIT per batch).
class OutboxWriter {
 public:
  // Runs on the loop thread, exactly once per submitted write.
  using Done = std::function<void(WriteOutcome&& outcome)>;

  OutboxWriter(uv_loop_t* loop, const RedisEndpoint& redis, std::shared_ptr<HandOver> handover,
               Metrics& metrics);
  // Writes still queued or waiting for Redis are answered as failed.
  ~OutboxWriter();
  OutboxWriter(const OutboxWriter&) = delete;
  OutboxWriter& operator=(const OutboxWriter&) = delete;

  void start();
  // Any thread.
  void submit(OfferWrite&& write, Done done);

 private:
  struct Pending {
    OfferWrite write;
    Done done;
    std::chrono::steady_clock::time_point deadline;
  };
  // Moves what the request threads queued to waiting_.
  void take_queued();
  void send_queued();
  void send(Pending& write);
  // Hands a committed event to the relay, then answers the write.
  void finish(WriteOutcome&& outcome, const Done& done);
  void expire_waiting();
  void fail_all();

  std::shared_ptr<HandOver> handover_;
  std::mutex mu_;
  std::vector<Pending> queue_;    // guarded by mu_
  std::vector<Pending> waiting_;  // loop-owned: for the connection, or for the WAIT in flight
  bool replicating_ = false;      // a batch waits for its WAIT
  bool closing_ = false;
  AsyncRedis redis_;
  Async wake_;
  Timer expire_;
  Gauge& waiting_gauge_;
};

}  // namespace offers
