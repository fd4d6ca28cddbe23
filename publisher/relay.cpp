#include "publisher/relay.hpp"

#include <amqp_framing.h>

#include <ctime>
#include <memory>

#include "publisher/offer_store.hpp"
#include "shared/amqp/topology.hpp"
#include "shared/common/envelope.hpp"
#include "shared/common/fault_points.hpp"
#include "shared/common/log.hpp"

namespace offers {
namespace {
constexpr uint16_t kChannel = 1;
// The confirmed cursor is written to Redis at most this often: fewer writes (each one an fsync)
// under load, at the price of resending up to this much after a crash, which dedupe absorbs.
constexpr uint64_t kCursorWriteMs = 20;

// Moves the confirmed cursor forward, only for the current holder of the lease.
// KEYS: lease, cursor. ARGV: the holder's lease value, the cursor. Returns 0 when fenced off.
const LuaScript kWriteCursor{R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], ARGV[2])
end
return 1
)lua"};
}  // namespace

Relay::Relay(uv_loop_t* loop, const PublisherSettings& settings, Metrics& metrics,
             std::shared_ptr<HandOver> handover, std::function<void(const std::string&)> on_fatal)
    : settings_(settings),
      on_fatal_(std::move(on_fatal)),
      amqp_(loop, settings.common, "special-offers", *this),
      redis_(loop, settings.common.redis,
             [this](bool up) {
               if (up) {
                 lease_.attempt_now();
                 if (lease_.valid()) load_cursor();
               } else {
                 fetching_ = false;
                 more_ = true;
               }
             }),
      lease_(loop, redis_, settings.relay_id, settings.relay_lease, metrics,
             [this](bool active) { on_lease(active); }),
      wake_(loop, [this] { pump(); }),
      tick_(loop),
      cursor_timer_(loop),
      stop_timer_(loop),
      handover_(std::move(handover)),
      published_total_(metrics.counter("relay_published_total", "Events handed to the broker")),
      confirmed_total_(metrics.counter("relay_confirmed_total", "Events confirmed by the broker")),
      republished_total_(
          metrics.counter("relay_resent_total", "Events published again after a reconnect")),
      lag_(metrics.gauge("outbox_lag", "Events in the outbox not yet confirmed by the broker")),
      broker_up_(metrics.gauge("broker_connected", "1 while the broker connection is open")),
      blocked_gauge_(metrics.gauge("broker_blocked", "1 while the broker blocks publishers")) {
  handover_->attach([this] { wake_.send(); });
}

Relay::~Relay() { handover_->detach(); }  // before wake_ closes

void Relay::start() {
  redis_.start();
  lease_.start();
  amqp_.start();
  // A periodic look at the outbox covers writes made while this process was down.
  tick_.start(1000, 1000, [this] {
    more_ = true;
    pump();
  });
}

Relay::Status Relay::status() const {
  return Status{connected_.load(), blocked_flag_.load(), active_flag_.load()};
}

void Relay::on_lease(bool active) {
  ++generation_;  // replies to fetches of the last term are dropped
  inflight_.clear();
  fetching_ = false;
  // A term that follows this relay's own last one with the next token had no other holder in
  // between (every holder takes a token of its own), so what the broker confirmed then is still
  // the truth and need not be sent again (a lease lost to a Redis outage, for one). Otherwise the
  // cursor is read again from Redis.
  if (active && lease_.token() != lease_.previous_token() + 1) cursor_ = -1;
  if (cursor_ >= 0) next_ = cursor_ + 1;  // what was unconfirmed is sent again
  written_cursor_ = -1;
  cursor_timer_.stop();
  active_flag_ = active;
  if (active) {
    more_ = true;
    pump();
  } else if (stopping_) {
    finish_stop();
  }
}

void Relay::update_gauges() {
  lag_.set(static_cast<double>(outbox_len_ - std::max<int64_t>(cursor_, 0)));
}

void Relay::load_cursor() {
  const uint64_t gen = generation_;
  redis_.command({"GET", keys::kRelayCursor}, [this, gen](redisReply* r) {
    if (r == nullptr || r->type == REDIS_REPLY_ERROR) return;  // retried by the next tick
    if (gen != generation_ || !lease_.valid()) return;         // read again by pump()
    const int64_t stored =
        r->type == REDIS_REPLY_STRING ? std::stoll(std::string(r->str, r->len)) : 0;
    written_cursor_ = stored;
    if (cursor_ < 0 || stored > cursor_) cursor_ = stored;
    if (cursor_ > stored) write_cursor();  // a write lost with a Redis restart
    // With nothing unconfirmed, the next event is the one after the cursor; a fetch in flight
    // from elsewhere is dropped when its reply comes (see pump).
    if (inflight_.empty()) next_ = cursor_ + 1;
    update_gauges();
    more_ = true;
    pump();
  });
}

void Relay::on_connected(AmqpConnection& conn) {
  conn.confirm_select(kChannel);
  ++generation_;
  inflight_.clear();
  next_tag_ = 1;
  blocked_ = false;
  fetching_ = false;
  if (cursor_ >= 0) {
    if (published_ > cursor_) republished_total_.inc(static_cast<uint64_t>(published_ - cursor_));
    next_ = cursor_ + 1;
  }
  connected_ = true;
  broker_up_.set(1);
  more_ = true;
  pump();
}

void Relay::on_disconnected(const std::string&) {
  ++generation_;
  inflight_.clear();
  fetching_ = false;
  blocked_ = false;
  connected_ = false;
  blocked_flag_ = false;
  broker_up_.set(0);
  blocked_gauge_.set(0);
  if (stopping_) finish_stop();
}

void Relay::pump() {
  if (!lease_.valid()) {
    // A standby publishes nothing; the holder reads whatever it needs from the outbox.
    handover_->take();
    handed_.clear();
    return;
  }
  if (stopping_ || fetching_ || blocked_ || !amqp_.connected() || !redis_.ready()) return;
  if (cursor_ < 0) {
    load_cursor();
    return;
  }
  if (!publish_handed_over()) more_ = true;  // a gap: read that part of the outbox from Redis
  if (!amqp_.connected()) return;
  if (!more_) return;
  const int64_t room = window_room();
  if (room <= 0) return;
  const int64_t n = std::min<int64_t>(room, settings_.relay_batch);
  more_ = false;  // until a gap, a reconnect, a tick or a full batch says otherwise
  const std::string first = std::to_string(next_ - 1);
  const std::string last = std::to_string(next_ - 1 + n - 1);
  fetching_ = true;
  const uint64_t gen = generation_;
  const int64_t from = next_;
  auto bodies = std::make_shared<std::vector<std::string>>();
  redis_.command({"LLEN", keys::kEventLog}, [this](redisReply* r) {
    if (r != nullptr && r->type == REDIS_REPLY_INTEGER) {
      outbox_len_ = r->integer;
      update_gauges();
    }
  });
  // hiredis frees each reply after its callback, so the bodies are copied out.
  redis_.command({"LRANGE", keys::kEventLog, first, last}, [bodies](redisReply* r) {
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY) return;
    for (size_t i = 0; i < r->elements; ++i)
      bodies->emplace_back(r->element[i]->str, r->element[i]->len);
  });
  auto metas = std::make_shared<std::vector<std::string>>();
  auto fetched = std::make_shared<bool>(false);
  auto publish = [this, bodies, metas, fetched, gen, n, from](bool replicated) {
    fetching_ = false;
    if (!*fetched || !replicated) {
      more_ = true;  // Redis is gone or failing: its reconnection or the tick tries again
      return;
    }
    // Only a reply for the current connection and the current position is published.
    if (gen != generation_ || from != next_) {
      more_ = true;  // the reconnect or a cursor load moved the position: fetch from there
      pump();
      return;
    }
    if (static_cast<int64_t>(metas->size()) >= n) more_ = true;  // there may be more behind it
    publish_batch(*bodies, *metas);
  };
  const bool wait = redis_.waits_for_replicas();
  redis_.command({"LRANGE", keys::kEventMeta, first, last},
                 [metas, fetched, wait, publish](redisReply* r) {
                   if (r != nullptr && r->type == REDIS_REPLY_ARRAY) {
                     *fetched = true;
                     for (size_t i = 0; i < r->elements; ++i)
                       metas->emplace_back(r->element[i]->str, r->element[i]->len);
                   }
                   if (!wait) publish(true);
                 });
  // With REDIS_MIN_REPLICAS an event is published only once the replicas have it: one written
  // through another replica of this service, or refused with a short WAIT, could otherwise reach
  // the subscribers and then vanish with a failover, its sequence number given to another event.
  if (wait) redis_.wait_replicas(publish);
}

void Relay::publish_batch(const std::vector<std::string>& bodies,
                          const std::vector<std::string>& metas) {
  if (amqp_.connection() == nullptr || stopping_) return;
  const size_t count = std::min(bodies.size(), metas.size());
  if (count > 0) fault_point("before_publish");
  try {
    for (size_t i = 0; i < count && lease_.valid(); ++i) publish_one(bodies[i], metas[i]);
  } catch (const AmqpError& e) {
    amqp_.fail(e.what());
    return;
  }
  pump();
}

void Relay::publish_one(const std::string& body, std::string_view meta) {
  const auto space = meta.find(' ');
  Properties p;
  p.content_type = "application/json";
  p.delivery_mode = 2;
  p.message_id = message_id_for(next_);
  p.type = std::string(meta.substr(0, space));
  if (space != std::string_view::npos && space + 1 < meta.size()) {
    p.correlation_id = std::string(meta.substr(space + 1));
  }
  p.app_id = "special-offers";
  p.timestamp = static_cast<uint64_t>(std::time(nullptr));
  p.headers.push_back({"x-schema-version", HeaderValue{int64_t{kSchemaVersion}}});
  amqp_.connection()->publish(kChannel, kExchange, "", true, p, body);
  fault_point("after_publish");
  inflight_.push_back({next_tag_++, next_, false});
  if (next_ > published_) {
    published_ = next_;
    published_total_.inc();
  }
  ++next_;
}

bool Relay::publish_handed_over() {
  for (auto& e : handover_->take()) {
    if (e.sequence_number >= next_ && handed_.size() < kHandOverCapacity) {
      const int64_t seq = e.sequence_number;
      handed_.emplace(seq, std::move(e));
    }
  }
  handed_.erase(handed_.begin(), handed_.lower_bound(next_));
  if (!handed_.empty() && handed_.begin()->first == next_ && window_room() > 0) {
    fault_point("before_publish");
    try {
      while (!handed_.empty() && handed_.begin()->first == next_ && window_room() > 0 &&
             lease_.valid()) {
        publish_one(handed_.begin()->second.body, handed_.begin()->second.meta);
        handed_.erase(handed_.begin());
      }
    } catch (const AmqpError& e) {
      amqp_.fail(e.what());
      return true;
    }
  }
  // What is left either waits for room in the window or sits behind an event not handed over.
  return handed_.empty() || handed_.begin()->first == next_;
}

void Relay::on_method(uint16_t channel, amqp_method_number_t id, const void* decoded) {
  switch (id) {
    case AMQP_BASIC_ACK_METHOD: {
      if (channel != kChannel) return;
      const auto* ack = static_cast<const amqp_basic_ack_t*>(decoded);
      confirm(ack->delivery_tag, ack->multiple);
      return;
    }
    case AMQP_BASIC_NACK_METHOD:
      // The broker could not take a message: start again from the cursor on a new connection.
      amqp_.fail("broker refused a publish (basic.nack)");
      return;
    case AMQP_CONNECTION_BLOCKED_METHOD: {
      const auto* b = static_cast<const amqp_connection_blocked_t*>(decoded);
      blocked_ = true;
      blocked_flag_ = true;
      blocked_gauge_.set(1);
      log_warn("broker blocked publishing",
               {{"reason", std::string(static_cast<const char*>(b->reason.bytes), b->reason.len)}});
      return;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      blocked_ = false;
      blocked_flag_ = false;
      blocked_gauge_.set(0);
      log_info("broker unblocked publishing");
      more_ = true;
      pump();
      return;
    default:
      return;
  }
}

void Relay::on_message(Message&& message) {
  if (message.kind != Message::Kind::Return) return;
  // Unroutable: a queue or binding is missing. Reconnecting redeclares the topology and resends.
  log_warn("event returned unroutable",
           {{"message_id", message.props.message_id.value_or("")}, {"reply", message.reply_text}});
  amqp_.fail("event returned unroutable: " + message.reply_text);
}

void Relay::confirm(uint64_t tag, bool multiple) {
  for (auto& f : inflight_) {
    if (f.tag == tag || (multiple && f.tag < tag)) f.confirmed = true;
    if (f.tag >= tag) break;
  }
  const int64_t before = cursor_;
  while (!inflight_.empty() && inflight_.front().confirmed) {
    cursor_ = inflight_.front().seq;
    inflight_.pop_front();
  }
  if (cursor_ > before) {
    confirmed_total_.inc(static_cast<uint64_t>(cursor_ - before));
    if (!cursor_timer_.active()) cursor_timer_.start(kCursorWriteMs, 0, [this] { write_cursor(); });
    update_gauges();
  }
  if (stopping_ && inflight_.empty()) {
    finish_stop();
    return;
  }
  pump();
}

// The cursor (like the lease, see relay_lease.cpp) is written without WAIT even with
// REDIS_MIN_REPLICAS: a failover that loses the latest cursor leaves an older one, and the relay
// then sends again events the broker already has, which every subscriber's dedupe absorbs. It
// cannot lose a cursor ahead of the outbox: the events it covers were replicated before they were
// published, and replication keeps order.
void Relay::write_cursor() {
  cursor_timer_.stop();
  if (cursor_ <= written_cursor_ || !redis_.ready() || lease_.value().empty()) return;
  const int64_t value = cursor_;
  RespArgs keys, args;
  keys.add(keys::kRelayLease);
  keys.add(keys::kRelayCursor);
  args.add(lease_.value());
  args.add(static_cast<long long>(value));
  redis_.eval(kWriteCursor, keys, args, [this, value](redisReply* r) {
    if (r == nullptr || r->type != REDIS_REPLY_INTEGER) return;  // written again later
    if (r->integer == 0) {
      lease_.lost("the cursor write was fenced off: another replica holds the lease");
      return;
    }
    written_cursor_ = std::max(written_cursor_, value);
  });
}

void Relay::stop(std::chrono::milliseconds grace, std::function<void()> done) {
  stopping_ = true;
  stop_done_ = std::move(done);
  tick_.stop();
  if (inflight_.empty() || !amqp_.connected()) {
    finish_stop();
    return;
  }
  stop_timer_.start(static_cast<uint64_t>(grace.count()), 0, [this] { finish_stop(); });
}

void Relay::finish_stop() {
  if (!stop_done_) return;
  stop_timer_.stop();
  auto done = std::move(stop_done_);
  stop_done_ = nullptr;
  auto close = [this, done] {
    amqp_.stop();
    redis_.stop();
    done();
  };
  if (!redis_.ready()) {
    lease_.stop();
    close();
    return;
  }
  write_cursor();
  // After the last cursor write (one connection keeps the order), the lease is given up, so a
  // standby takes over at once instead of waiting for it to expire.
  lease_.release(close);
}

}  // namespace offers
