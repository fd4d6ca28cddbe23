#pragma once

#include <hiredis/hiredis.h>

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

struct WriteResult {
  std::string offer_json;  // the new offer (create, update) or the removed one (delete)
  int64_t offer_id = 0;
  OutboxEvent event;  // the event the change appended
};

struct WriteOutcome {
  enum class Status { Done, NotFound, Failed };
  Status status = Status::Failed;
  WriteResult result;  // when Done
  std::string error;   // when Failed: Redis unreachable or it refused the write
};

// The outcome of a write script's reply (nullptr: no reply, the connection is gone).
WriteOutcome write_outcome(const redisReply* reply);

}  // namespace offers
