#pragma once

#include <uv.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/amqp/amqp_client.hpp"
#include "shared/amqp/topology.hpp"
#include "shared/common/metrics.hpp"
#include "shared/common/settings.hpp"
#include "shared/common/uv_handles.hpp"
#include "shared/consumer/apply_outcomes.hpp"
#include "shared/consumer/event_handler.hpp"
#include "shared/redis/redis_async.hpp"
#include "shared/redis/redis_sync.hpp"
#include "shared/redis/resp.hpp"

namespace offers {

// Consumes one subscriber's queue with manual acknowledgements and applies each event's effect
// exactly once (see EventHandler). One libuv loop owns the AMQP connection and the Redis
// connection. The deliveries read in one pass go to Redis as one script call, calls are pipelined,
// and acknowledgements are batched with the multiple flag, always for a prefix of deliveries that
// are all settled.
//
// - malformed (not JSON, wrong shape, no message_id): rejected without requeue, to S.dlq;
// - handler failure: republished to S.retry with the next delay as expiration and x-retry-count,
//   confirmed, then acknowledged; after the last delay it goes to S.dlq with x-error,
//   x-retry-count, x-failed-at and x-subscriber;
// - Redis unreachable: the consuming channel is closed, which hands every unacknowledged delivery
//   back to the queue; consuming resumes once Redis answers again.
// - with REDIS_MIN_REPLICAS, a batch is settled only after a WAIT says enough replicas have it; a
//   short WAIT is handled like Redis unreachable.
class Consumer : private AmqpClient::Handler {
 public:
  Consumer(uv_loop_t* loop, const SubscriberSettings& settings, std::string subscriber,
           EventHandler& handler, Metrics& metrics,
           std::function<void(const std::string&)> on_fatal);
  ~Consumer() override;

  void start();
  // Does not consume until release(): on_declared runs once, on the loop's thread, as soon as the
  // first connection has declared the topology (the subscriber's queue then keeps every event).
  // Call before start().
  void hold(std::function<void()> on_declared);
  void release();
  // Stops taking deliveries, settles what is in flight (up to the grace period), closes, then
  // calls done.
  void stop(std::function<void()> done);

  struct Status {
    bool broker_connected;
    bool consuming;
    bool redis_connected;
  };
  Status status() const { return {broker_.load(), consuming_.load(), redis_up_.load()}; }

 private:
  struct InFlight {
    bool done = false;
    std::chrono::steady_clock::time_point received;
  };
  struct PendingConfirm {
    uint64_t delivery_tag;
    uint64_t session;
  };

  void on_connected(AmqpConnection& conn) override;
  void on_disconnected(const std::string& reason) override;
  void on_method(uint16_t channel, amqp_method_number_t id, const void* decoded) override;
  void on_message(Message&& message) override;
  void on_fatal(const std::string& reason) override { on_fatal_(reason); }

  void on_redis(bool up);
  void start_consuming();
  void stop_consuming();
  void handle(Message&& message);
  void add_to_batch(Message&& message, const Effect& effect);
  void schedule_batch();
  void send_batch();
  void discard_batch();
  // The apply script's answer, copied out of the reply.
  struct BatchResult {
    std::string error;                 // for the whole batch
    std::vector<std::string> results;  // one per message otherwise
  };
  static BatchResult batch_result(const std::vector<Message>& batch, const redisReply* reply);
  void on_batch_reply(const std::vector<Message>& batch, const BatchResult& result);
  void not_replicated();
  void on_applied(const Message& message, std::string_view result);
  void fail_delivery(const Message& message, const std::string& error);
  void reject(uint64_t tag, const std::string& why, const Message& message);
  void settle(uint64_t tag);
  void schedule_flush();
  void flush();
  void maybe_finish_stop();
  void finish_stop();

  SubscriberSettings settings_;
  std::string name_;
  SubscriberQueues queues_;
  EventHandler& handler_;
  std::function<void(const std::string&)> on_fatal_;
  LuaScript script_;
  const std::vector<std::string> handler_keys_;
  AmqpClient amqp_;
  AsyncRedis redis_;
  Timer batch_timer_;
  Timer flush_timer_;
  Timer resume_timer_;  // consuming again after a short WAIT
  Timer stop_timer_;
  std::function<void()> stop_done_;

  uint16_t consume_channel_ = 0;  // 0 while not consuming
  uint16_t next_channel_ = 2;
  std::string consumer_tag_;
  uint64_t session_ = 0;  // changes whenever delivery tags stop being valid
  std::map<uint64_t, InFlight> in_flight_;
  std::map<uint64_t, PendingConfirm> confirms_;  // publish sequence number -> delivery
  uint64_t next_publish_tag_ = 1;
  std::vector<Message> batch_;  // read from the broker, not yet sent to Redis
  RespArgs batch_keys_;         // the apply script's KEYS for batch_
  RespArgs batch_args_;         // and its ARGV
  bool batch_scheduled_ = false;
  int applying_ = 0;  // batches sent to Redis and not answered yet
  size_t settled_unacked_ = 0;
  bool flush_scheduled_ = false;
  bool flush_soon_ = false;
  bool stopping_ = false;
  bool held_ = false;
  std::function<void()> on_declared_;

  std::atomic<bool> broker_{false};
  std::atomic<bool> consuming_{false};
  std::atomic<bool> redis_up_{false};

  Counter& received_;
  ApplyOutcomes outcomes_;
  Counter& retried_;
  Counter& dead_lettered_;
  Counter& malformed_;
  Gauge& in_flight_gauge_;
  Gauge& broker_gauge_;
  Gauge& redis_gauge_;
  Histogram& latency_;
};

}  // namespace offers
