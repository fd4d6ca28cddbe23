#include "publisher/relay_lease.hpp"

#include <algorithm>
#include <cstdlib>

#include "shared/common/log.hpp"

namespace offers {
namespace {

// Renews the caller's lease, or starts a new term when the lease is free or was the same owner's
// (a restarted process), or answers how long another holder still has.
// KEYS: lease, fence. ARGV: owner, period in ms, the value the caller holds ('' for none).
// Returns {1, value} renewed, {2, value} a new term, {0, remaining ms} held by another.
// No WAIT follows it, even with REDIS_MIN_REPLICAS: a lease or fence lost with a failover can at
// worst let two relays publish for a moment, and a resent event is absorbed by the subscribers'
// dedupe; what must survive a failover (outbox, dedupe keys, effects) is written with WAIT.
const LuaScript kAcquire{R"lua(
local v = redis.call('GET', KEYS[1])
if v and v == ARGV[3] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, v}
end
if v and string.sub(v, (string.find(v, ':', 1, true) or 0) + 1) ~= ARGV[1] then
  return {0, tostring(redis.call('PTTL', KEYS[1]))}
end
local value = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {2, value}
)lua"};

const LuaScript kRelease{R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua"};

// A standby looks this often, so that a lease given up on shutdown is taken over at once.
constexpr std::chrono::milliseconds kStandbyPoll{250};

std::string reply_string(const redisReply* r) {
  if (r == nullptr) return "";
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) return {r->str, r->len};
  if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  return "";
}

}  // namespace

RelayLease::RelayLease(uv_loop_t* loop, AsyncRedis& redis, std::string owner,
                       std::chrono::milliseconds period, Metrics& metrics,
                       std::function<void(bool active)> on_change)
    : redis_(redis),
      owner_(std::move(owner)),
      period_(period),
      margin_(std::max(period / 5, std::chrono::milliseconds(50))),
      on_change_(std::move(on_change)),
      attempt_timer_(loop),
      expiry_timer_(loop),
      active_(metrics.gauge("relay_active", "1 while this replica's relay holds the lease")),
      takeovers_(metrics.counter("relay_takeovers_total",
                                 "Terms this replica's relay started holding the lease")),
      requests_(
          metrics.counter("relay_lease_requests_total",
                          "Requests for the relay lease (taking or renewing) Redis answered")) {}

void RelayLease::start() {
  stopped_ = false;
  attempt();
}

void RelayLease::attempt_now() {
  if (!stopped_) attempt();
}

void RelayLease::stop() {
  stopped_ = true;
  attempt_timer_.stop();
  expiry_timer_.stop();
}

bool RelayLease::valid() const {
  return !value_.empty() && std::chrono::steady_clock::now() < valid_until_;
}

void RelayLease::schedule(std::chrono::milliseconds delay) {
  if (stopped_) return;
  attempt_timer_.start(static_cast<uint64_t>(std::max<int64_t>(delay.count(), 1)), 0,
                       [this] { attempt(); });
}

void RelayLease::attempt() {
  if (stopped_ || in_flight_) return;
  const auto standby_poll = std::min(kStandbyPoll, period_ / 4);
  if (!redis_.ready()) {
    schedule(value_.empty() ? standby_poll : period_ / 3);
    return;
  }
  in_flight_ = true;
  const auto sent = std::chrono::steady_clock::now();
  RespArgs keys, args;
  keys.add(keys::kRelayLease);
  keys.add(keys::kRelayFence);
  args.add(owner_);
  args.add(static_cast<long long>(period_.count()));
  args.add(value_);
  redis_.eval(kAcquire, keys, args, [this, sent](redisReply* r) { on_reply(r, sent); });
}

void RelayLease::on_reply(redisReply* r, std::chrono::steady_clock::time_point sent) {
  in_flight_ = false;
  if (stopped_) return;
  const auto standby_poll = std::min(kStandbyPoll, period_ / 4);
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_INTEGER) {
    // No answer: the term runs down by the clock unless a later renewal gets through.
    schedule(value_.empty() ? standby_poll : period_ / 6);
    return;
  }
  requests_.inc();
  const long long outcome = r->element[0]->integer;
  const std::string value = reply_string(r->element[1]);
  if (outcome == 0) {
    if (!value_.empty()) end_term("another replica holds the lease");
    const auto remaining = std::chrono::milliseconds(std::max(0LL, std::atoll(value.c_str())));
    schedule(std::min(remaining + std::chrono::milliseconds(1), standby_poll));
    return;
  }
  if (outcome == 2 && !value_.empty()) end_term("the lease had expired");
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      sent + period_ - margin_ - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    // The answer came too late to count on: the period may be over by Redis's clock already.
    end_term("the lease was not renewed in time");
    schedule(standby_poll);
    return;
  }
  valid_until_ = sent + period_ - margin_;
  expiry_timer_.start(static_cast<uint64_t>(left.count()), 0,
                      [this] { end_term("the lease was not renewed in time"); });
  if (outcome == 2) {
    value_ = value;
    token_ = std::atoll(value_.c_str());
    active_.set(1);
    takeovers_.inc();
    log_info("relay holds the lease", {{"lease", value_}});
    on_change_(true);
  }
  schedule(period_ / 3);
}

void RelayLease::end_term(const std::string& why) {
  if (value_.empty()) return;
  log_warn("relay stands by", {{"lease", value_}, {"reason", why}});
  value_.clear();
  previous_token_ = token_;
  token_ = 0;
  active_.set(0);
  expiry_timer_.stop();
  on_change_(false);
}

void RelayLease::lost(const std::string& why) {
  end_term(why);
  schedule(std::min(kStandbyPoll, period_ / 4));
}

void RelayLease::release(std::function<void()> done) {
  stop();
  if (value_.empty() || !redis_.ready()) {
    value_.clear();
    active_.set(0);
    done();
    return;
  }
  RespArgs keys, args;
  keys.add(keys::kRelayLease);
  args.add(value_);
  value_.clear();
  active_.set(0);
  redis_.eval(kRelease, keys, args, [done = std::move(done)](redisReply*) { done(); });
}

}  // namespace offers
