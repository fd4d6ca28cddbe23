#include "subscribers/notifications/notifications_handler.hpp"

#include "shared/common/json.hpp"
#include "shared/common/log.hpp"

namespace offers {

// K: [1] the log. A: [1] kind, [2] the notification as JSON.
const std::string& NotificationsHandler::apply_script() const {
  static const std::string script = R"lua(
local function apply(K, A)
  if A[1] == 'unknown' then return 'ignored' end
  redis.call('LPUSH', K[1], A[2])
  return 'applied'
end
)lua";
  return script;
}

std::string notification_text(const Event& e) {
  switch (e.kind) {
    case EventKind::Created:
      return "New offer: " + e.offer.description;
    case EventKind::Updated:
      return "Offer changed: " + (e.old_offer ? e.old_offer->description : "") + " -> " +
             e.offer.description;
    case EventKind::Removed:
      return "Offer ended: " + e.offer.description;
    case EventKind::Unknown:
      break;
  }
  return "";
}

Effect NotificationsHandler::effect(const Event& e, const std::string& message_id) {
  std::string json;
  if (e.kind != EventKind::Unknown) {
    json = "{\"messageId\":" + json_quote(message_id) + ",\"event\":" + json_quote(e.name) +
           ",\"offerId\":" + std::to_string(e.offer.id) +
           ",\"text\":" + json_quote(notification_text(e)) +
           ",\"sentAt\":" + json_quote(utc_now_iso8601_us()) + "}";
  }
  return Effect{{kind_name(e.kind), json}};
}

std::vector<std::string> NotificationsHandler::keys() const { return {kNotificationLog}; }

}  // namespace offers
