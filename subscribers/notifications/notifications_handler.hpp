#pragma once

#include "shared/consumer/event_handler.hpp"

namespace offers {

// Sends one notification per offer event, kept newest first in a durable Redis list.
class NotificationsHandler : public EventHandler {
 public:
  const std::string& apply_script() const override;
  std::vector<std::string> keys() const override;
  Effect effect(const Event& event, const std::string& message_id) override;
  // Replaying history would notify people about offers of the past.
  bool catches_up_by_default() const override { return false; }
};

inline constexpr const char* kNotificationLog = "notifications:log";

// The notification text for an event, e.g. "New offer: Two coffees for one".
std::string notification_text(const Event& event);

}  // namespace offers
