#pragma once

#include "shared/http/http_service.hpp"
#include "shared/redis/redis_sync.hpp"

namespace offers {

// GET /notifications?limit=n, newest first.
void add_notifications_routes(HttpService& http, RedisPool& redis);

}  // namespace offers
