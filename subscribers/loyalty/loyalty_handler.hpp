#pragma once

#include "shared/consumer/event_handler.hpp"

namespace offers {

// Keeps loyalty's own copy of the active offers. Each offer only moves forward in sequence order,
// so a late Created or Updated never brings back an offer that was removed.
class LoyaltyHandler : public EventHandler {
 public:
  const std::string& apply_script() const override;
  std::vector<std::string> keys() const override;
  Effect effect(const Event& event, const std::string& message_id) override;
};

namespace loyalty_keys {
inline constexpr const char* kOffers = "loyalty:offers";
inline constexpr const char* kOfferSeq = "loyalty:offer_seq";
inline constexpr const char* kStale = "loyalty:stale";
inline constexpr const char* kUsers = "loyalty:users";
inline constexpr const char* kNextUserId = "loyalty:next_user_id";
}  // namespace loyalty_keys

}  // namespace offers
