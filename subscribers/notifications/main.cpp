#include "shared/consumer/subscriber_service.hpp"
#include "shared/http/api_documents.hpp"
#include "subscribers/notifications/notifications_api.hpp"
#include "subscribers/notifications/notifications_handler.hpp"

int main() {
  offers::NotificationsHandler handler;
  return offers::subscriber_main("notifications", 8082, handler, [](auto& http, auto& redis) {
    offers::add_notifications_routes(http, redis);
    offers::add_openapi_route(http, offers::api::notifications_openapi());
  });
}
