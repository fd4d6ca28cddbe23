#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "publisher/offer_store.hpp"
#include "shared/redis/redis_sync.hpp"
#include "shared/redis/resp.hpp"

namespace offers {

// One change of the offers as a call of its Lua script: the offer and the event it appends to
// the outbox are written together, so both exist or neither does. The event's occurredAt is the
// moment the write is built.
struct OfferWrite {
  const LuaScript* script = nullptr;
  RespArgs keys;
  RespArgs args;
};

OfferWrite create_write(std::string_view description, std::string_view correlation_id);
OfferWrite update_write(int64_t id, std::string_view description, std::string_view correlation_id);
OfferWrite remove_write(int64_t id, std::string_view correlation_id);

// A write under an Idempotency-Key: the first request's reply is stored with the key in the same
// script call as the change and its event; a repeat of the same method, path and body gets it
// back instead (and changes nothing), another request under the same key is refused.
struct IdempotentRequest {
  std::string key;
  std::string method;
  std::string path;
  std::string body;
  std::chrono::milliseconds ttl{std::chrono::hours(24)};
  std::string not_found_body;  // the 404 reply of an update or removal of a missing offer
};
void add_idempotency(OfferWrite& write, const IdempotentRequest& request);

// The reply stored under an Idempotency-Key.
struct StoredReply {
  int status = 0;
  std::string body;
  std::string location;  // of a created offer; empty otherwise
};

struct WriteResult {
  std::string offer_json;  // the new offer (create, update) or the removed one (delete)
  int64_t offer_id = 0;
  OutboxEvent event;  // the event the change appended
};

struct WriteOutcome {
  enum class Status { Done, NotFound, Failed, Replayed, KeyReused };
  Status status = Status::Failed;
  WriteResult result;  // when Done
  StoredReply replay;  // when Replayed
  std::string error;   // when Failed: Redis unreachable or it refused the write
};

// The outcome of a write script's reply (nullptr: no reply, the connection is gone).
WriteOutcome write_outcome(const redisReply* reply);

}  // namespace offers
