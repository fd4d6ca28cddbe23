#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "publisher/handover.hpp"
#include "publisher/relay_lease.hpp"
#include "shared/amqp/amqp_client.hpp"
#include "shared/common/metrics.hpp"
#include "shared/common/settings.hpp"
#include "shared/common/uv_handles.hpp"
#include "shared/redis/redis_async.hpp"

namespace offers {

// Moves the outbox to the broker. Runs on one libuv loop that owns its AMQP connection and its
// Redis connection. Publishes unsent events in sequence order (persistent, mandatory, with
// confirms and a window of unconfirmed messages) and advances the persisted cursor only over
// events the broker confirmed. After any failure it reconnects and resends from the cursor with
// the same message ids; the subscribers' dedupe absorbs the repeats. Of several replicas only
// the holder of the relay lease publishes (see RelayLease); the others stand by, and every write of
// the cursor is fenced by the lease.
class Relay : private AmqpClient::Handler {
 public:
  // Events pushed to handover are published without reading them back from Redis.
  Relay(uv_loop_t* loop, const PublisherSettings& settings, Metrics& metrics,
        std::shared_ptr<HandOver> handover, std::function<void(const std::string&)> on_fatal);
  ~Relay() override;

  void start();
  // Stops after the unconfirmed window drains or the grace period ends; then calls done.
  void stop(std::chrono::milliseconds grace, std::function<void()> done);

  struct Status {
    bool broker_connected;
    bool broker_blocked;
    bool active;  // holds the relay lease
  };
  Status status() const;

 private:
  struct Inflight {
    uint64_t tag;
    int64_t seq;
    bool confirmed;
  };
  void on_connected(AmqpConnection& conn) override;
  void on_disconnected(const std::string& reason) override;
  void on_method(uint16_t channel, amqp_method_number_t id, const void* decoded) override;
  void on_message(Message&& message) override;
  void on_fatal(const std::string& reason) override { on_fatal_(reason); }

  // A term of the lease starts (active) or ends: either way nothing of the last term carries on.
  void on_lease(bool active);
  void pump();
  void load_cursor();
  void publish_batch(const std::vector<std::string>& bodies, const std::vector<std::string>& metas);
  void publish_one(const std::string& body, std::string_view meta);
  // Events that may still be published before the confirm window is full.
  int64_t window_room() const {
    return settings_.confirm_window - static_cast<int64_t>(inflight_.size());
  }
  // Publishes the handed-over events that continue the sequence; false when there is a gap.
  bool publish_handed_over();
  void confirm(uint64_t tag, bool multiple);
  void write_cursor();
  void update_gauges();
  void finish_stop();

  PublisherSettings settings_;
  std::function<void(const std::string&)> on_fatal_;
  AmqpClient amqp_;
  AsyncRedis redis_;
  RelayLease lease_;
  Async wake_;
  Timer tick_;
  Timer cursor_timer_;
  Timer stop_timer_;
  std::function<void()> stop_done_;

  int64_t cursor_ = -1;  // -1 until read from Redis
  int64_t next_ = 0;     // next sequence number to publish
  uint64_t next_tag_ = 1;
  uint64_t generation_ = 0;  // bumped on every (re)connect; stale Redis replies are dropped
  int64_t written_cursor_ = -1;
  bool fetching_ = false;
  bool more_ = false;  // the outbox may hold events beyond next_
  bool blocked_ = false;
  bool stopping_ = false;
  std::deque<Inflight> inflight_;
  std::map<int64_t, OutboxEvent> handed_;  // loop-owned, by sequence number

  std::shared_ptr<HandOver> handover_;

  std::atomic<bool> connected_{false};
  std::atomic<bool> blocked_flag_{false};
  std::atomic<bool> active_flag_{false};
  int64_t published_ = 0;   // highest sequence number ever handed to the broker
  int64_t outbox_len_ = 0;  // events in the log, as last read

  Counter& published_total_;
  Counter& confirmed_total_;
  Counter& republished_total_;
  Gauge& lag_;
  Gauge& broker_up_;
  Gauge& blocked_gauge_;
};

}  // namespace offers
