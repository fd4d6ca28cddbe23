#include "shared/consumer/event_handler.hpp"

namespace offers {

std::string apply_once_script(const std::string& apply_body) {
  return R"lua(
local function moves_forward(seq_key, stale_key, id, seq)
  if tonumber(seq) <= tonumber(redis.call('HGET', seq_key, id) or '0') then
    redis.call('INCR', stale_key)
    return false
  end
  redis.call('HSET', seq_key, id, seq)
  return true
end
local finish  -- a handler may set it to run once after the batch
)lua" + apply_body +
         R"lua(
local ttl, nk, position = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local K, A = {}, {}  -- A is reused for every event of the batch
for i = 1, nk do K[i] = KEYS[i] end
local results, k, a, failed = {}, nk + 1, 4, false
while a <= #ARGV do
  local na = tonumber(ARGV[a])
  for i = 1, na do A[i] = ARGV[a + i] end
  for i = na + 1, #A do A[i] = nil end
  local seen = KEYS[k]
  k, a = k + 1, a + 1 + na
  local result = 'duplicate'
  if redis.call('SET', seen, '1', 'NX', 'EX', ttl) then
    local ok, r = pcall(apply, K, A)
    result = r
    if not ok then
      redis.call('DEL', seen)
      result = 'error: ' .. (type(r) == 'table' and tostring(r.err) or tostring(r))
      failed = true
    end
  end
  results[#results + 1] = result
end
if finish then finish() end
-- A catch-up moves its position only past a batch applied in full: after a failure it starts
-- again from the batch's first event, whose applied events are then found duplicates.
if position ~= '' and not failed then redis.call('HSET', KEYS[#KEYS], 'position', position) end
return results
)lua";
}

const char* kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::Created:
      return "created";
    case EventKind::Updated:
      return "updated";
    case EventKind::Removed:
      return "removed";
    case EventKind::Unknown:
      break;
  }
  return "unknown";
}

}  // namespace offers
