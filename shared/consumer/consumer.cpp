#include "shared/consumer/consumer.hpp"

#include <amqp_framing.h>

#include <cstring>
#include <string_view>
#include <utility>

#include "shared/common/fault_points.hpp"
#include "shared/common/log.hpp"
#include "shared/redis/durable_batch.hpp"
#include "shared/redis/redis_sync.hpp"

namespace offers {
namespace {

constexpr uint16_t kPublishChannel = 1;
// Events per script call: large enough to amortise the call, small enough that one call does not
// hold Redis for long.
constexpr size_t kMaxBatch = 128;
// Acknowledgements wait this long, or until this many deliveries are settled, so that the broker
// handles one multi-ack for many deliveries. A delivery applied but not yet acknowledged when the
// process dies comes back and is found a duplicate.
constexpr uint64_t kAckDelayMs = 5;
constexpr size_t kAckEvery = 100;

std::string processed_key(const std::string& subscriber, const std::string& message_id) {
  return "processed:" + subscriber + ":" + message_id;
}

Counter& deliveries(Metrics& m, const char* result) {
  return m.counter("deliveries_total", "Deliveries by how they were settled",
                   std::string("result=\"") + result + "\"");
}

}  // namespace

Consumer::Consumer(uv_loop_t* loop, const SubscriberSettings& settings, std::string subscriber,
                   EventHandler& handler, Metrics& metrics,
                   std::function<void(const std::string&)> on_fatal)
    : settings_(settings),
      name_(subscriber),
      queues_(subscriber),
      handler_(handler),
      on_fatal_(std::move(on_fatal)),
      script_(apply_once_script(handler.apply_script())),
      handler_keys_(handler.keys()),
      amqp_(loop, settings.common, subscriber, *this),
      redis_(loop, settings.common.redis, [this](bool up) { on_redis(up); }),
      batch_timer_(loop),
      flush_timer_(loop),
      resume_timer_(loop),
      stop_timer_(loop),
      received_(
          metrics.counter("deliveries_received_total", "Deliveries received from the broker")),
      outcomes_(metrics, "deliveries_total", "Deliveries by how they were settled"),
      retried_(deliveries(metrics, "retried")),
      dead_lettered_(deliveries(metrics, "dead_lettered")),
      malformed_(deliveries(metrics, "malformed")),
      in_flight_gauge_(metrics.gauge("deliveries_in_flight", "Deliveries not yet settled")),
      broker_gauge_(metrics.gauge("broker_connected", "1 while the broker connection is open")),
      redis_gauge_(metrics.gauge("redis_connected", "1 while Redis answers")),
      latency_(metrics.histogram(
          "delivery_processing_seconds", "From delivery to settled (acknowledged or handed on)",
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})) {}

Consumer::~Consumer() = default;

void Consumer::start() {
  redis_.start();
  amqp_.start();
}

void Consumer::hold(std::function<void()> on_declared) {
  held_ = true;
  on_declared_ = std::move(on_declared);
}

void Consumer::release() {
  held_ = false;
  start_consuming();
}

void Consumer::on_redis(bool up) {
  redis_up_ = up;
  redis_gauge_.set(up ? 1 : 0);
  if (up) {
    redis_.command({"SCRIPT", "LOAD", script_.text}, [](redisReply*) {});
    start_consuming();
  } else {
    stop_consuming();
  }
}

void Consumer::on_connected(AmqpConnection& conn) {
  conn.confirm_select(kPublishChannel);
  next_publish_tag_ = 1;
  confirms_.clear();
  broker_ = true;
  broker_gauge_.set(1);
  if (on_declared_) std::exchange(on_declared_, nullptr)();
  start_consuming();
}

void Consumer::on_disconnected(const std::string&) {
  ++session_;
  consume_channel_ = 0;
  discard_batch();
  in_flight_.clear();
  settled_unacked_ = 0;
  confirms_.clear();
  in_flight_gauge_.set(0);
  broker_ = false;
  consuming_ = false;
  broker_gauge_.set(0);
  if (stopping_) finish_stop();
}

void Consumer::start_consuming() {
  AmqpConnection* conn = amqp_.connection();
  if (stopping_ || held_ || consume_channel_ != 0 || conn == nullptr || !redis_.ready()) return;
  const uint16_t channel = next_channel_;
  next_channel_ = next_channel_ >= 2000 ? 2 : next_channel_ + 1;
  try {
    conn->open_channel(channel);
    conn->qos(channel, static_cast<uint16_t>(settings_.prefetch));
    consumer_tag_ = conn->consume(channel, queues_.main);
  } catch (const AmqpError& e) {
    amqp_.fail(e.what());
    return;
  }
  ++session_;
  consume_channel_ = channel;
  discard_batch();
  in_flight_.clear();
  settled_unacked_ = 0;
  consuming_ = true;
  log_info("consuming",
           {{"queue", queues_.main}, {"prefetch", std::to_string(settings_.prefetch)}});
  amqp_.pump();
}

void Consumer::stop_consuming() {
  AmqpConnection* conn = amqp_.connection();
  if (consume_channel_ == 0 || conn == nullptr) return;
  flush();  // what Redis already applied is acknowledged before the rest goes back
  const uint16_t channel = consume_channel_;
  consume_channel_ = 0;
  consuming_ = false;
  ++session_;
  discard_batch();
  in_flight_.clear();
  settled_unacked_ = 0;
  in_flight_gauge_.set(0);
  // Closing the channel hands every unacknowledged delivery back to the queue.
  try {
    conn->close_channel(channel);
  } catch (const AmqpError& e) {
    amqp_.fail(e.what());
  }
  log_warn("stopped consuming until Redis is back", {{"queue", queues_.main}});
}

void Consumer::on_message(Message&& message) {
  if (message.kind == Message::Kind::Return) {
    // A retry or dead letter could not be routed: redeclare the topology by reconnecting; the
    // original delivery was not acknowledged and comes back.
    amqp_.fail("republished message returned: " + message.reply_text);
    return;
  }
  received_.inc();
  if (message.channel != consume_channel_ || consume_channel_ == 0 || stopping_) return;
  in_flight_[message.delivery_tag] = InFlight{false, std::chrono::steady_clock::now()};
  in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
  handle(std::move(message));
}

void Consumer::handle(Message&& m) {
  fault_point("after_delivery");
  if (!m.props.message_id || m.props.message_id->empty()) {
    reject(m.delivery_tag, "message has no message_id", m);
    return;
  }
  if (m.props.headers.size() > kMaxMessageHeaders) {
    reject(m.delivery_tag,
           "message has more than " + std::to_string(kMaxMessageHeaders) + " headers", m);
    return;
  }
  EventParse parsed = parse_event(m.body);
  if (!parsed.event) {
    reject(m.delivery_tag, parsed.error, m);
    return;
  }
  Effect effect;
  try {
    const Event& e = *parsed.event;
    if (!settings_.fail_on_description.empty() && e.kind != EventKind::Unknown &&
        e.offer.description.find(settings_.fail_on_description) != std::string::npos) {
      throw std::runtime_error("handler failure injected by FAIL_ON_DESCRIPTION");
    }
    effect = handler_.effect(e, *m.props.message_id);
  } catch (const std::exception& ex) {
    fail_delivery(m, ex.what());
    return;
  }
  add_to_batch(std::move(m), effect);
}

void Consumer::add_to_batch(Message&& m, const Effect& effect) {
  if (batch_.empty()) {
    for (const auto& k : handler_keys_) batch_keys_.add(k);
    batch_args_.add(settings_.dedupe_ttl.count());
    batch_args_.add(static_cast<long long>(handler_keys_.size()));
    batch_args_.add("");  // not a catch-up: no position to record
  }
  batch_keys_.add(processed_key(name_, *m.props.message_id));
  batch_args_.add(static_cast<long long>(effect.args.size()));
  for (const auto& a : effect.args) batch_args_.add(a);
  batch_.push_back(std::move(m));
  if (batch_.size() >= kMaxBatch) {
    send_batch();
  } else if (applying_ == 0) {
    schedule_batch();
  }
  // Otherwise the batch grows until Redis answers the one it is working on (group commit): no
  // added latency when idle, bigger batches under load.
}

void Consumer::schedule_batch() {
  if (batch_scheduled_ || batch_.empty()) return;
  batch_scheduled_ = true;
  // A zero timer runs after this loop iteration's I/O: every delivery read in one go is in it.
  batch_timer_.start(0, 0, [this] {
    batch_scheduled_ = false;
    send_batch();
  });
}

void Consumer::send_batch() {
  if (batch_.empty()) return;
  auto messages = std::make_shared<std::vector<Message>>(std::move(batch_));
  ++applying_;
  const uint64_t session = session_;
  if (!redis_.waits_for_replicas()) {
    redis_.eval(script_, batch_keys_, batch_args_, [this, messages, session](redisReply* r) {
      --applying_;
      schedule_batch();
      if (session == session_ && r != nullptr)
        on_batch_reply(*messages, batch_result(*messages, r));
    });
    discard_batch();
    return;
  }
  // The results wait for one WAIT after the script: nothing is acknowledged before enough
  // replicas have its effect (or, for a duplicate, the effect applied before).
  auto result = std::make_shared<std::optional<BatchResult>>();
  auto durable = DurableBatch::create(redis_, [this, messages, session, result](bool replicated) {
    --applying_;
    schedule_batch();
    if (session != session_ || !result->has_value()) return;
    if (replicated) {
      on_batch_reply(*messages, **result);
    } else {
      not_replicated();
    }
  });
  redis_.eval(script_, batch_keys_, batch_args_, durable->track([messages, result](redisReply* r) {
    if (r != nullptr) *result = batch_result(*messages, r);
  }));
  durable->seal();
  discard_batch();
}

void Consumer::not_replicated() {
  // Like Redis unavailable: every unacknowledged delivery goes back to the queue, and consuming
  // resumes a little later (redeliveries found duplicates wait for the replicas again).
  stop_consuming();
  if (!resume_timer_.active()) {
    resume_timer_.start(static_cast<uint64_t>(settings_.common.redis.wait_timeout.count()), 0,
                        [this] { start_consuming(); });
  }
}

void Consumer::discard_batch() {
  batch_.clear();
  batch_keys_.clear();
  batch_args_.clear();
}

Consumer::BatchResult Consumer::batch_result(const std::vector<Message>& messages,
                                             const redisReply* r) {
  BatchResult out;
  if (r->type == REDIS_REPLY_ERROR) {
    out.error.assign(r->str, r->len);
  } else if (r->type != REDIS_REPLY_ARRAY || r->elements != messages.size()) {
    out.error = "unexpected reply to the apply script";
  } else {
    for (size_t i = 0; i < r->elements; ++i) {
      const redisReply* e = r->element[i];
      out.results.emplace_back(e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS
                                   ? std::string(e->str, e->len)
                                   : std::string("error: not a string"));
    }
  }
  return out;
}

void Consumer::on_batch_reply(const std::vector<Message>& messages, const BatchResult& result) {
  for (size_t i = 0; i < messages.size(); ++i) {
    if (result.error.empty()) {
      on_applied(messages[i], result.results[i]);
    } else {
      fail_delivery(messages[i], "redis: " + result.error);
    }
  }
}

void Consumer::on_applied(const Message& m, std::string_view result) {
  fault_point("after_redis");
  if (!outcomes_.count(result)) {
    constexpr std::string_view prefix = "error: ";
    const std::string_view what =
        result.substr(0, prefix.size()) == prefix ? result.substr(prefix.size()) : result;
    fail_delivery(m, "redis: " + std::string(what));
    return;
  }
  settle(m.delivery_tag);
}

void Consumer::fail_delivery(const Message& m, const std::string& error) {
  AmqpConnection* conn = amqp_.connection();
  if (conn == nullptr) return;
  const int64_t attempts = std::max<int64_t>(0, m.props.int_header("x-retry-count").value_or(0));
  Properties p = m.props;
  p.expiration.reset();
  p.set_header("x-retry-count", HeaderValue{attempts + 1});
  p.set_header("x-error", HeaderValue{error});
  std::string exchange, routing_key;
  const bool retry = attempts < static_cast<int64_t>(settings_.retry_delays.size());
  if (retry) {
    p.expiration = std::to_string(settings_.retry_delays[static_cast<size_t>(attempts)].count());
    routing_key = queues_.retry;  // default exchange: straight to S.retry, never the fanout
  } else {
    p.set_header("x-retry-count", HeaderValue{attempts});
    p.set_header("x-failed-at", HeaderValue{utc_now_iso8601()});
    p.set_header("x-subscriber", HeaderValue{name_});
    exchange = std::string(kDeadLetterExchange);
    routing_key = name_;
  }
  try {
    conn->publish(kPublishChannel, exchange, routing_key, true, p, m.body);
  } catch (const AmqpError& e) {
    amqp_.fail(e.what());
    return;
  }
  confirms_[next_publish_tag_++] = PendingConfirm{m.delivery_tag, session_};
  (retry ? retried_ : dead_lettered_).inc();
  log_warn(retry ? "delivery failed; retrying later"
                 : "delivery failed for the last time; dead-lettered",
           {{"message_id", m.props.message_id.value_or("")},
            {"attempt", std::to_string(attempts + 1)},
            {"error", error}});
}

void Consumer::reject(uint64_t tag, const std::string& why, const Message& m) {
  malformed_.inc();
  log_warn("malformed message dead-lettered",
           {{"message_id", m.props.message_id.value_or("")}, {"error", why}});
  try {
    amqp_.connection()->reject(consume_channel_, tag, false);
  } catch (const AmqpError& e) {
    amqp_.fail(e.what());
    return;
  }
  in_flight_.erase(tag);
  in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
  maybe_finish_stop();
}

void Consumer::settle(uint64_t tag) {
  auto it = in_flight_.find(tag);
  if (it == in_flight_.end()) return;
  it->second.done = true;
  ++settled_unacked_;
  latency_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.received)
          .count());
  schedule_flush();
}

void Consumer::schedule_flush() {
  const bool soon = stopping_ || settled_unacked_ >= kAckEvery;
  if (flush_scheduled_ && (flush_soon_ || !soon)) return;
  flush_scheduled_ = true;
  flush_soon_ = soon;
  // Even a zero timer runs after this loop iteration's I/O: every reply read in one go shares
  // one ack.
  flush_timer_.start(soon ? 0 : kAckDelayMs, 0, [this] {
    flush_scheduled_ = false;
    flush();
    maybe_finish_stop();
  });
}

void Consumer::flush() {
  AmqpConnection* conn = amqp_.connection();
  if (conn == nullptr || consume_channel_ == 0) return;
  uint64_t last = 0;
  size_t count = 0;
  auto it = in_flight_.begin();
  while (it != in_flight_.end() && it->second.done) {
    last = it->first;
    ++count;
    it = in_flight_.erase(it);
  }
  if (count == 0) return;
  settled_unacked_ -= count;
  fault_point(count > 1 ? "during_multi_ack" : "before_ack");
  try {
    conn->ack(consume_channel_, last, count > 1);
  } catch (const AmqpError& e) {
    amqp_.fail(e.what());
  }
  in_flight_gauge_.set(static_cast<double>(in_flight_.size()));
}

void Consumer::on_method(uint16_t channel, amqp_method_number_t id, const void* decoded) {
  if (channel == kPublishChannel && id == AMQP_BASIC_ACK_METHOD) {
    const auto* ack = static_cast<const amqp_basic_ack_t*>(decoded);
    auto it = confirms_.begin();
    while (it != confirms_.end() && it->first <= ack->delivery_tag) {
      if (!ack->multiple && it->first != ack->delivery_tag) {
        ++it;
        continue;
      }
      if (it->second.session == session_) settle(it->second.delivery_tag);
      it = confirms_.erase(it);
    }
    return;
  }
  if (channel == kPublishChannel && id == AMQP_BASIC_NACK_METHOD) {
    amqp_.fail("broker refused a retry or dead-letter publish");
    return;
  }
  if (channel == consume_channel_ && id == AMQP_BASIC_CANCEL_METHOD) {
    amqp_.fail("broker cancelled the consumer of " + queues_.main);
  }
}

void Consumer::stop(std::function<void()> done) {
  stopping_ = true;
  stop_done_ = std::move(done);
  AmqpConnection* conn = amqp_.connection();
  if (conn != nullptr && consume_channel_ != 0) {
    try {
      conn->cancel(consume_channel_, consumer_tag_);
    } catch (const AmqpError& e) {
      amqp_.fail(e.what());
    }
  }
  consuming_ = false;
  stop_timer_.start(static_cast<uint64_t>(settings_.shutdown_grace.count()), 0,
                    [this] { finish_stop(); });
  maybe_finish_stop();
}

void Consumer::maybe_finish_stop() {
  if (!stopping_) return;
  bool pending = !confirms_.empty();
  for (const auto& [tag, f] : in_flight_) pending = pending || !f.done;
  if (!pending) finish_stop();
}

void Consumer::finish_stop() {
  if (!stop_done_) return;
  flush();
  auto done = std::move(stop_done_);
  stop_done_ = nullptr;
  stop_timer_.stop();
  resume_timer_.stop();
  batch_timer_.stop();
  flush_timer_.stop();
  amqp_.stop();  // closing hands back whatever was delivered but not settled
  redis_.stop();
  broker_ = false;
  done();
}

}  // namespace offers
