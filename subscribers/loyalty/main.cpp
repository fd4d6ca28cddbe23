#include "shared/consumer/subscriber_service.hpp"
#include "shared/http/api_documents.hpp"
#include "subscribers/loyalty/loyalty_api.hpp"
#include "subscribers/loyalty/loyalty_handler.hpp"

int main() {
  offers::LoyaltyHandler handler;
  return offers::subscriber_main("loyalty", 8081, handler, [](auto& http, auto& redis) {
    offers::add_loyalty_routes(http, redis);
    offers::add_openapi_route(http, offers::api::loyalty_openapi());
  });
}
