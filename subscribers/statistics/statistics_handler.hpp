#pragma once

#include "shared/consumer/event_handler.hpp"

namespace offers {

// Counts events per type, the active offers, the last sequence number and ignored events.
class StatisticsHandler : public EventHandler {
 public:
  const std::string& apply_script() const override;
  std::vector<std::string> keys() const override;
  Effect effect(const Event& event, const std::string& message_id) override;
};

namespace statistics_keys {
inline constexpr const char* kByType = "statistics:events_by_type";
inline constexpr const char* kActive = "statistics:active_offers";
inline constexpr const char* kOfferSeq = "statistics:offer_seq";
inline constexpr const char* kLastSeq = "statistics:last_sequence";
inline constexpr const char* kIgnored = "statistics:ignored";
inline constexpr const char* kStale = "statistics:stale";
}  // namespace statistics_keys

}  // namespace offers
