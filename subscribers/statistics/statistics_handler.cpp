#include "subscribers/statistics/statistics_handler.hpp"

namespace offers {

// KEYS: [2] counts by type, [3] active offer ids, [4] last sequence per offer, [5] last sequence,
// [6] ignored, [7] stale. ARGV: [2] kind, [3] event name, [4] offer id, [5] sequence number.
// Counts by type take every event once; the active set only moves forward per offer.
const std::string& StatisticsHandler::apply_script() const {
  static const std::string script = R"lua(
local function apply()
  local kind, name, id, seq = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
  if seq > tonumber(redis.call('GET', KEYS[5]) or '0') then redis.call('SET', KEYS[5], seq) end
  if kind == 'unknown' then
    redis.call('INCR', KEYS[6])
    return 'ignored'
  end
  redis.call('HINCRBY', KEYS[2], name, 1)
  if not moves_forward(KEYS[4], KEYS[7], id, seq) then return 'stale' end
  if kind == 'removed' then
    redis.call('SREM', KEYS[3], id)
  else
    redis.call('SADD', KEYS[3], id)
  end
  return 'applied'
end
)lua";
  return script;
}

Effect StatisticsHandler::effect(const Event& e, const std::string&) {
  using namespace statistics_keys;
  return Effect{
      {kByType, kActive, kOfferSeq, kLastSeq, kIgnored, kStale},
      {kind_name(e.kind), e.name, std::to_string(e.offer.id), std::to_string(e.sequence_number)}};
}

}  // namespace offers
