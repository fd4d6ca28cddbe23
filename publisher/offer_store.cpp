#include "publisher/offer_store.hpp"

#include <algorithm>

#include "shared/envelope.hpp"
#include "shared/json.hpp"
#include "shared/log.hpp"

namespace offers {
namespace {

// Shared tail of every write: append the event and its meta; returns its sequence number, the
// event and the meta. ARGV[1] occurredAt, ARGV[2] correlation id.
constexpr const char* kAppendEvent = R"lua(
local function append_event(name, content)
  local seq = redis.call('LLEN', KEYS[2]) + 1
  local event = '{"sequenceNumber":' .. string.format('%d', seq) .. ',"occurredAt":"' ..
      ARGV[1] .. '","name":"' .. name .. '","content":' .. content .. '}'
  local meta = name .. ' ' .. ARGV[2]
  redis.call('RPUSH', KEYS[2], event)
  redis.call('RPUSH', KEYS[3], meta)
  return seq, event, meta
end
)lua";

// KEYS offers, events:log, events:meta, offers:next_id; ARGV occurredAt, correlation, description.
const LuaScript kCreate{std::string(kAppendEvent) + R"lua(
local id = redis.call('INCR', KEYS[4])
local offer = '{"id":' .. string.format('%d', id) .. ',"description":' .. ARGV[3] .. '}'
redis.call('HSET', KEYS[1], id, offer)
local seq, event, meta = append_event('SpecialOfferCreated', offer)
return {id, seq, offer, event, meta}
)lua"};

// KEYS offers, events:log, events:meta; ARGV occurredAt, correlation, id, description.
const LuaScript kUpdate{std::string(kAppendEvent) + R"lua(
local old = redis.call('HGET', KEYS[1], ARGV[3])
if not old then return false end
local offer = '{"id":' .. ARGV[3] .. ',"description":' .. ARGV[4] .. '}'
redis.call('HSET', KEYS[1], ARGV[3], offer)
local seq, event, meta = append_event('SpecialOfferUpdated',
    '{"oldOffer":' .. old .. ',"newOffer":' .. offer .. '}')
return {tonumber(ARGV[3]), seq, offer, event, meta}
)lua"};

// KEYS offers, events:log, events:meta; ARGV occurredAt, correlation, id.
const LuaScript kRemove{std::string(kAppendEvent) + R"lua(
local old = redis.call('HGET', KEYS[1], ARGV[3])
if not old then return false end
redis.call('HDEL', KEYS[1], ARGV[3])
local seq, event, meta = append_event('SpecialOfferRemoved', '{"offer":' .. old .. '}')
return {tonumber(ARGV[3]), seq, old, event, meta}
)lua"};

std::optional<WriteResult> to_result(const redisReply* r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) return std::nullopt;
  WriteResult w;
  w.offer_id = r->element[0]->integer;
  w.event.sequence_number = r->element[1]->integer;
  w.offer_json.assign(r->element[2]->str, r->element[2]->len);
  w.event.body.assign(r->element[3]->str, r->element[3]->len);
  w.event.meta.assign(r->element[4]->str, r->element[4]->len);
  return w;
}

std::vector<std::string> write_keys(bool with_counter) {
  std::vector<std::string> k{keys::kOffers, keys::kEventLog, keys::kEventMeta};
  if (with_counter) k.push_back(keys::kNextOfferId);
  return k;
}

}  // namespace

WriteResult OfferStore::create(const std::string& description, const std::string& correlation) {
  auto r = pool_.lease()->eval(kCreate, write_keys(true),
                               {utc_now_iso8601(), correlation, json_quote(description)});
  auto w = to_result(r.get());
  if (!w) throw RedisError("create script returned an unexpected reply");
  return *w;
}

std::optional<WriteResult> OfferStore::update(int64_t id, const std::string& description,
                                              const std::string& correlation) {
  auto r = pool_.lease()->eval(
      kUpdate, write_keys(false),
      {utc_now_iso8601(), correlation, std::to_string(id), json_quote(description)});
  return to_result(r.get());
}

std::optional<WriteResult> OfferStore::remove(int64_t id, const std::string& correlation) {
  auto r = pool_.lease()->eval(kRemove, write_keys(false),
                               {utc_now_iso8601(), correlation, std::to_string(id)});
  return to_result(r.get());
}

std::optional<std::string> OfferStore::get(int64_t id) {
  auto r = pool_.lease()->command({"HGET", keys::kOffers, std::to_string(id)});
  if (r->type != REDIS_REPLY_STRING) return std::nullopt;
  return std::string(r->str, r->len);
}

std::vector<std::string> OfferStore::all() {
  auto r = pool_.lease()->command({"HGETALL", keys::kOffers});
  std::vector<std::pair<int64_t, std::string>> rows;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    rows.emplace_back(std::stoll(std::string(r->element[i]->str, r->element[i]->len)),
                      std::string(r->element[i + 1]->str, r->element[i + 1]->len));
  }
  std::sort(rows.begin(), rows.end());
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (auto& [id, json] : rows) out.push_back(std::move(json));
  return out;
}

std::vector<std::string> OfferStore::events(int64_t start, int64_t end, int64_t limit) {
  const int64_t first = std::max<int64_t>(start, 1);
  const int64_t stop = std::min(end, first + limit);  // exclusive
  std::vector<std::string> out;
  if (stop <= first) return out;
  auto r = pool_.lease()->command(
      {"LRANGE", keys::kEventLog, std::to_string(first - 1), std::to_string(stop - 2)});
  for (size_t i = 0; i < r->elements; ++i) out.emplace_back(r->element[i]->str, r->element[i]->len);
  return out;
}

int64_t OfferStore::event_count() {
  return pool_.lease()->command({"LLEN", keys::kEventLog})->integer;
}

int64_t OfferStore::relay_cursor() {
  auto r = pool_.lease()->command({"GET", keys::kRelayCursor});
  if (r->type != REDIS_REPLY_STRING) return 0;
  return std::stoll(std::string(r->str, r->len));
}

void OfferStore::ping() { pool_.lease()->command({"PING"}); }

}  // namespace offers
