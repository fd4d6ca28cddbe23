#include "subscribers/loyalty/loyalty_handler.hpp"

namespace offers {

// K: [1] offers by id, [2] last sequence per offer, [3] stale count.
// A: [1] kind, [2] offer id, [3] sequence number, [4] the offer as JSON.
const std::string& LoyaltyHandler::apply_script() const {
  static const std::string script = R"lua(
local function apply(K, A)
  local kind, id, seq = A[1], A[2], A[3]
  if kind == 'unknown' then return 'ignored' end
  if not moves_forward(K[2], K[3], id, seq) then return 'stale' end
  if kind == 'removed' then
    redis.call('HDEL', K[1], id)
  else
    redis.call('HSET', K[1], id, A[4])
  end
  return 'applied'
end
)lua";
  return script;
}

std::vector<std::string> LoyaltyHandler::keys() const {
  using namespace loyalty_keys;
  return {kOffers, kOfferSeq, kStale};
}

Effect LoyaltyHandler::effect(const Event& e, const std::string&) {
  return Effect{{kind_name(e.kind), std::to_string(e.offer.id), std::to_string(e.sequence_number),
                 e.offer.json}};
}

}  // namespace offers
