#include "shared/consumer/feed_catch_up.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <thread>

#include "shared/common/envelope.hpp"
#include "shared/common/fault_points.hpp"
#include "shared/common/json.hpp"
#include "shared/common/log.hpp"
#include "shared/http/http_client.hpp"

namespace offers {
namespace {

// Events per script call, as in the consumer: one call does not hold Redis for long.
constexpr size_t kApplyBatch = 128;
// A whole page (EVENTS_PAGE_LIMIT events) must arrive within this.
constexpr std::chrono::seconds kPageTimeout{30};

// KEYS = the marker, then the handler's keys. A store that holds any of the handler's keys has
// seen events (it was filled by the queue, or before catch-ups existed): it is not caught up.
const LuaScript kBegin{R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' then return {'done', '0'} end
if state == 'running' then
  return {'running', redis.call('HGET', KEYS[1], 'position') or '0'}
end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[1], 'state', 'done')
    return {'done', '0'}
  end
end
redis.call('HSET', KEYS[1], 'state', 'running', 'position', '0')
return {'running', '0'}
)lua"};

std::string text(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string(r->str, r->len)
             : std::string();
}

}  // namespace

std::string catch_up_marker(const std::string& subscriber) { return subscriber + ":catch_up"; }

FeedCatchUp::FeedCatchUp(const SubscriberSettings& settings, std::string subscriber,
                         EventHandler& handler, Metrics& metrics, const std::atomic<bool>& stop)
    : settings_(settings),
      name_(std::move(subscriber)),
      handler_(handler),
      stop_(stop),
      script_(apply_once_script(handler.apply_script())),
      handler_keys_(handler.keys()),
      marker_(catch_up_marker(name_)),
      redis_(settings.common.redis, std::chrono::seconds(5)),
      position_gauge_(
          metrics.gauge("catch_up_position", "Last sequence number applied from the event feed")),
      outcomes_(metrics, "catch_up_events_total",
                "Events read from the feed, by what their effect did") {}

bool FeedCatchUp::wait_backoff(std::chrono::milliseconds& delay) {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (!stop_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        delay, std::chrono::milliseconds(50)));  // short, so a stop is seen at once
  }
  delay = std::min(delay * 2, settings_.common.reconnect_max);
  return !stop_;
}

template <typename F>
bool FeedCatchUp::with_redis(F&& f) {
  auto delay = settings_.common.reconnect_min;
  while (!stop_) {
    try {
      f();
      return true;
    } catch (const RedisError& e) {
      log_warn("catch-up waits for Redis", {{"error", e.what()}});
      if (!wait_backoff(delay)) return false;
    }
  }
  return false;
}

std::optional<int64_t> FeedCatchUp::begin() {
  std::vector<std::string> keys{marker_};
  keys.insert(keys.end(), handler_keys_.begin(), handler_keys_.end());
  std::string state, position;
  if (!with_redis([&] {
        auto r = redis_.eval(kBegin, keys, {});
        state = text(r->element[0]);
        position = text(r->element[1]);
      })) {
    return std::nullopt;
  }
  if (state != "running") return std::nullopt;
  position_ = std::stoll(position);
  position_gauge_.set(static_cast<double>(position_.load()));
  return position_.load();
}

void FeedCatchUp::finish() {
  with_redis([&] { redis_.command({"HSET", marker_, "state", "done"}); });
}

long long FeedCatchUp::clear_store() {
  long long deleted = 0;
  std::vector<std::string> del{"DEL", marker_};
  del.insert(del.end(), handler_keys_.begin(), handler_keys_.end());
  deleted += redis_.command(del)->integer;
  std::string cursor = "0";
  do {
    auto r =
        redis_.command({"SCAN", cursor, "MATCH", "processed:" + name_ + ":*", "COUNT", "1000"});
    cursor = text(r->element[0]);
    const redisReply* found = r->element[1];
    if (found->elements == 0) continue;
    std::vector<std::string> unlink{"UNLINK"};
    for (size_t i = 0; i < found->elements; ++i) unlink.push_back(text(found->element[i]));
    deleted += redis_.command(unlink)->integer;
  } while (cursor != "0");
  return deleted;
}

void FeedCatchUp::apply(const std::vector<Event>& events, const std::string& page) {
  for (size_t first = 0; first < events.size(); first += kApplyBatch) {
    const size_t last = std::min(events.size(), first + kApplyBatch);
    std::vector<std::string> keys = handler_keys_;
    std::vector<std::string> args{std::to_string(settings_.dedupe_ttl.count()),
                                  std::to_string(handler_keys_.size()),
                                  std::to_string(events[last - 1].sequence_number)};
    for (size_t i = first; i < last; ++i) {
      const std::string id = message_id_for(events[i].sequence_number);
      keys.push_back("processed:" + name_ + ":" + id);
      Effect effect;
      try {
        effect = handler_.effect(events[i], id);
      } catch (const std::exception& e) {
        throw CatchUpError("event " + id + " of page " + page + ": " + e.what());
      }
      args.push_back(std::to_string(effect.args.size()));
      args.insert(args.end(), effect.args.begin(), effect.args.end());
    }
    keys.push_back(marker_);
    ReplyPtr reply;
    // Replicated before the next page: a failover must not roll back a page the catch-up has
    // left behind, since history is not delivered again (a short WAIT retries the page, whose
    // events the dedupe keys then count as duplicates).
    if (!with_redis([&] {
          reply = redis_.eval(script_, keys, args);
          redis_.wait_replicas();
        })) {
      return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != last - first) {
      throw CatchUpError("unexpected reply to the apply script for page " + page);
    }
    for (size_t i = 0; i < reply->elements; ++i) {
      const std::string result = text(reply->element[i]);
      if (!outcomes_.count(result)) {
        throw CatchUpError("event " + message_id_for(events[first + i].sequence_number) +
                           " of page " + page + " failed: " + result);
      }
    }
    seen_ += last - first;
    position_ = events[last - 1].sequence_number;
    position_gauge_.set(static_cast<double>(position_.load()));
    fault_point("after_catch_up_batch");
  }
}

bool FeedCatchUp::run(int64_t from, const std::function<void()>& on_page) {
  position_ = from;
  HttpClient feed(settings_.feed, kPageTimeout, [this] { return stop_.load(); });
  std::string target = "/events?start=" + std::to_string(from + 1);
  auto delay = settings_.common.reconnect_min;
  log_info("catching up from the event feed",
           {{"feed", settings_.feed.url()}, {"position", std::to_string(from)}});
  while (!stop_) {
    HttpReply reply;
    try {
      reply = feed.get(target);
    } catch (const HttpError& e) {
      log_warn("event feed unreachable; trying again", {{"page", target}, {"error", e.what()}});
      if (!wait_backoff(delay)) return false;
      continue;
    }
    if (reply.status >= 500) {
      log_warn("event feed unavailable; trying again",
               {{"page", target}, {"status", std::to_string(reply.status)}});
      if (!wait_backoff(delay)) return false;
      continue;
    }
    delay = settings_.common.reconnect_min;
    if (reply.status != 200) {
      throw CatchUpError("page " + target + ": HTTP " + std::to_string(reply.status) + " " +
                         reply.body.substr(0, 200));
    }
    rapidjson::Document doc;
    std::string error;
    if (!parse_json(reply.body, doc, error)) {
      throw CatchUpError("page " + target + " is not JSON: " + error);
    }
    if (!doc.IsArray()) throw CatchUpError("page " + target + " is not a JSON array");
    std::vector<Event> events;
    events.reserve(doc.Size());
    int64_t expected = position_ + 1;
    for (const auto& item : doc.GetArray()) {
      EventParse parsed = parse_event(to_json(item));
      if (!parsed.event) {
        throw CatchUpError("page " + target + ": event " + std::to_string(events.size() + 1) +
                           " does not parse: " + parsed.error);
      }
      if (parsed.event->sequence_number != expected) {
        throw CatchUpError("page " + target + ": sequenceNumber " +
                           std::to_string(parsed.event->sequence_number) + " where " +
                           std::to_string(expected) + " was expected");
      }
      ++expected;
      events.push_back(std::move(*parsed.event));
    }
    apply(events, target);
    if (stop_) return false;
    if (on_page) on_page();
    const auto next = link_target(reply.header("link"), "next");
    if (!next) {
      log_info("caught up from the event feed", {{"position", std::to_string(position_.load())},
                                                 {"applied", std::to_string(outcomes_.applied())}});
      return true;
    }
    if (events.empty()) throw CatchUpError("page " + target + " is empty but links to " + *next);
    target = *next;
  }
  return false;
}

}  // namespace offers
