#include "shared/event_handler.hpp"

namespace offers {

std::string apply_once_script(const std::string& apply_body) {
  return R"lua(
local function moves_forward(seq_key, stale_key, id, seq)
  if seq <= tonumber(redis.call('HGET', seq_key, id) or '0') then
    redis.call('INCR', stale_key)
    return false
  end
  redis.call('HSET', seq_key, id, seq)
  return true
end
)lua" + apply_body +
         R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
local result = apply()
redis.call('SET', KEYS[1], result, 'EX', ARGV[1])
return result
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
