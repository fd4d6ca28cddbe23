#include "shared/consumer/subscriber_service.hpp"
#include "shared/http/api_documents.hpp"
#include "subscribers/statistics/statistics_handler.hpp"
#include "subscribers/statistics/stats_api.hpp"

int main() {
  offers::StatisticsHandler handler;
  return offers::subscriber_main("statistics", 8083, handler, [](auto& http, auto& redis) {
    offers::add_stats_routes(http, redis);
    offers::add_openapi_route(http, offers::api::statistics_openapi());
  });
}
