#pragma once

#include "shared/http/http_service.hpp"
#include "shared/redis/redis_sync.hpp"

namespace offers {

// GET /stats
void add_stats_routes(HttpService& http, RedisPool& redis);

}  // namespace offers
