#include "subscribers/loyalty/loyalty_handler.hpp"

namespace offers {

// KEYS: [2] offers by id, [3] last sequence per offer, [4] stale count.
// ARGV: [2] kind, [3] offer id, [4] sequence number, [5] the offer as JSON.
const std::string& LoyaltyHandler::apply_script() const {
  static const std::string script = R"lua(
local function apply()
  local kind, id, seq = ARGV[2], ARGV[3], tonumber(ARGV[4])
  if kind == 'unknown' then return 'ignored' end
  if not moves_forward(KEYS[3], KEYS[4], id, seq) then return 'stale' end
  if kind == 'removed' then
    redis.call('HDEL', KEYS[2], id)
  else
    redis.call('HSET', KEYS[2], id, ARGV[5])
  end
  return 'applied'
end
)lua";
  return script;
}

Effect LoyaltyHandler::effect(const Event& e, const std::string&) {
  using namespace loyalty_keys;
  return Effect{{kOffers, kOfferSeq, kStale},
                {kind_name(e.kind), std::to_string(e.offer.id), std::to_string(e.sequence_number),
                 e.offer.json}};
}

}  // namespace offers
