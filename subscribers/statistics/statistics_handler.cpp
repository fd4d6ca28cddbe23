#include "subscribers/statistics/statistics_handler.hpp"

namespace offers {

// K: [1] counts by type, [2] active offer ids, [3] last sequence per offer, [4] last sequence,
// [5] ignored, [6] stale. A: [1] kind, [2] event name, [3] offer id, [4] sequence number.
// Counts by type take every event once; the active set only moves forward per offer.
const std::string& StatisticsHandler::apply_script() const {
  static const std::string script = R"lua(
local last_seq, last_key, last_moved  -- read once per batch, written once at its end
local function apply(K, A)
  local kind, name, id, seq = A[1], A[2], A[3], A[4]
  last_seq, last_key = last_seq or tonumber(redis.call('GET', K[4]) or '0'), K[4]
  if tonumber(seq) > last_seq then
    last_seq, last_moved = tonumber(seq), seq
  end
  if kind == 'unknown' then
    redis.call('INCR', K[5])
    return 'ignored'
  end
  redis.call('HINCRBY', K[1], name, 1)
  if not moves_forward(K[3], K[6], id, seq) then return 'stale' end
  if kind == 'removed' then
    redis.call('SREM', K[2], id)
  else
    redis.call('SADD', K[2], id)
  end
  return 'applied'
end
finish = function()
  if last_moved then redis.call('SET', last_key, last_moved) end
end
)lua";
  return script;
}

std::vector<std::string> StatisticsHandler::keys() const {
  using namespace statistics_keys;
  return {kByType, kActive, kOfferSeq, kLastSeq, kIgnored, kStale};
}

Effect StatisticsHandler::effect(const Event& e, const std::string&) {
  return Effect{
      {kind_name(e.kind), e.name, std::to_string(e.offer.id), std::to_string(e.sequence_number)}};
}

}  // namespace offers
