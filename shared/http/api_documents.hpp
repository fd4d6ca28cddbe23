#pragma once

#include <string_view>

#include "shared/http/http_service.hpp"

namespace offers {

namespace api {
// The OpenAPI documents of api/, compiled in at build time (cmake/EmbedApi.cmake); each service
// links its own.
std::string_view special_offers_openapi();
std::string_view loyalty_openapi();
std::string_view notifications_openapi();
std::string_view statistics_openapi();
}  // namespace api

// GET /openapi.yaml: the service's own OpenAPI document, as application/yaml.
void add_openapi_route(HttpService& http, std::string_view document);

}  // namespace offers
