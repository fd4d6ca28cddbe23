#include "publisher/offer_writes.hpp"

#include "shared/common/envelope.hpp"
#include "shared/common/json.hpp"
#include "shared/common/log.hpp"

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

-- Idempotency-Key: the key's hash holds the first request's fingerprint and reply. A repeat
-- gets that reply back; a key reused for another request is refused. Without a key, no-ops.
local function stored_reply(key, fingerprint)
  if not key then return nil end
  local stored = redis.call('HMGET', key, 'fp', 'status', 'body', 'location')
  if not stored[1] then return nil end
  if stored[1] ~= redis.sha1hex(fingerprint) then return {'key-reused'} end
  return {'replay', tonumber(stored[2]), stored[3], stored[4]}
end
local function store_reply(key, fingerprint, ttl, status, body, location)
  if not key then return end
  redis.call('HSET', key, 'fp', redis.sha1hex(fingerprint), 'status', status, 'body', body,
             'location', location)
  redis.call('PEXPIRE', key, ttl)
end
)lua";

// KEYS offers, events:log, events:meta, offers:next_id[, idempotency key]; ARGV occurredAt,
// correlation, description[, fingerprint, ttl ms].
const LuaScript kCreate{std::string(kAppendEvent) + R"lua(
local replay = stored_reply(KEYS[5], ARGV[4])
if replay then return replay end
local id = redis.call('INCR', KEYS[4])
local offer = '{"id":' .. string.format('%d', id) .. ',"description":' .. ARGV[3] .. '}'
redis.call('HSET', KEYS[1], id, offer)
local seq, event, meta = append_event('SpecialOfferCreated', offer)
store_reply(KEYS[5], ARGV[4], ARGV[5], 201, offer, '/offers/' .. string.format('%d', id))
return {id, seq, offer, event, meta}
)lua"};

// KEYS offers, events:log, events:meta[, idempotency key]; ARGV occurredAt, correlation, id,
// description[, fingerprint, ttl ms, 404 body].
const LuaScript kUpdate{std::string(kAppendEvent) + R"lua(
local replay = stored_reply(KEYS[4], ARGV[5])
if replay then return replay end
local old = redis.call('HGET', KEYS[1], ARGV[3])
if not old then
  store_reply(KEYS[4], ARGV[5], ARGV[6], 404, ARGV[7], '')
  return false
end
local offer = '{"id":' .. ARGV[3] .. ',"description":' .. ARGV[4] .. '}'
redis.call('HSET', KEYS[1], ARGV[3], offer)
local seq, event, meta = append_event('SpecialOfferUpdated',
    '{"oldOffer":' .. old .. ',"newOffer":' .. offer .. '}')
store_reply(KEYS[4], ARGV[5], ARGV[6], 200, offer, '')
return {tonumber(ARGV[3]), seq, offer, event, meta}
)lua"};

// KEYS offers, events:log, events:meta[, idempotency key]; ARGV occurredAt, correlation, id[,
// fingerprint, ttl ms, 404 body].
const LuaScript kRemove{std::string(kAppendEvent) + R"lua(
local replay = stored_reply(KEYS[4], ARGV[4])
if replay then return replay end
local old = redis.call('HGET', KEYS[1], ARGV[3])
if not old then
  store_reply(KEYS[4], ARGV[4], ARGV[5], 404, ARGV[6], '')
  return false
end
redis.call('HDEL', KEYS[1], ARGV[3])
local seq, event, meta = append_event('SpecialOfferRemoved', '{"offer":' .. old .. '}')
store_reply(KEYS[4], ARGV[4], ARGV[5], 204, '', '')
return {tonumber(ARGV[3]), seq, old, event, meta}
)lua"};

void add_write_keys(RespArgs& keys, bool with_counter) {
  keys.add(keys::kOffers);
  keys.add(keys::kEventLog);
  keys.add(keys::kEventMeta);
  if (with_counter) keys.add(keys::kNextOfferId);
}

OfferWrite start_write(const LuaScript& script, bool with_counter,
                       std::string_view correlation_id) {
  OfferWrite w;
  w.script = &script;
  add_write_keys(w.keys, with_counter);
  w.args.add(utc_now_iso8601());
  w.args.add(correlation_id);
  return w;
}

}  // namespace

OfferWrite create_write(std::string_view description, std::string_view correlation_id) {
  OfferWrite w = start_write(kCreate, true, correlation_id);
  w.args.add(json_quote(std::string(description)));
  return w;
}

OfferWrite update_write(int64_t id, std::string_view description, std::string_view correlation_id) {
  OfferWrite w = start_write(kUpdate, false, correlation_id);
  w.args.add(static_cast<long long>(id));
  w.args.add(json_quote(std::string(description)));
  return w;
}

OfferWrite remove_write(int64_t id, std::string_view correlation_id) {
  OfferWrite w = start_write(kRemove, false, correlation_id);
  w.args.add(static_cast<long long>(id));
  return w;
}

void add_idempotency(OfferWrite& w, const IdempotentRequest& request) {
  w.keys.add(std::string(keys::kIdempotencyPrefix) + request.key);
  w.args.add(request.method + " " + request.path + "\n" + request.body);
  w.args.add(static_cast<long long>(request.ttl.count()));
  if (w.script != &kCreate) w.args.add(request.not_found_body);
}

WriteOutcome write_outcome(const redisReply* r) {
  WriteOutcome out;
  if (r == nullptr) {
    out.error = "no connection to Redis";
  } else if (r->type == REDIS_REPLY_NIL) {
    out.status = WriteOutcome::Status::NotFound;
  } else if (r->type == REDIS_REPLY_ERROR) {
    out.error.assign(r->str, r->len);
  } else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
             r->element[0]->type == REDIS_REPLY_STRING &&
             std::string_view(r->element[0]->str, r->element[0]->len) == "key-reused") {
    out.status = WriteOutcome::Status::KeyReused;
  } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
             r->element[0]->type == REDIS_REPLY_STRING &&
             std::string_view(r->element[0]->str, r->element[0]->len) == "replay") {
    out.status = WriteOutcome::Status::Replayed;
    out.replay.status = static_cast<int>(r->element[1]->integer);
    if (r->element[2]->type == REDIS_REPLY_STRING)
      out.replay.body.assign(r->element[2]->str, r->element[2]->len);
    if (r->element[3]->type == REDIS_REPLY_STRING)
      out.replay.location.assign(r->element[3]->str, r->element[3]->len);
  } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
    out.error = "unexpected reply to a write script";
  } else {
    out.status = WriteOutcome::Status::Done;
    WriteResult& w = out.result;
    w.offer_id = r->element[0]->integer;
    w.event.sequence_number = r->element[1]->integer;
    w.offer_json.assign(r->element[2]->str, r->element[2]->len);
    w.event.body.assign(r->element[3]->str, r->element[3]->len);
    w.event.meta.assign(r->element[4]->str, r->element[4]->len);
  }
  return out;
}

}  // namespace offers
