#pragma once

#include "shared/http/http_service.hpp"
#include "shared/redis/redis_sync.hpp"

namespace offers {

// POST /users, GET /users/<id>, PUT /users/<id>, GET /offers, GET /users/<id>/offers.
void add_loyalty_routes(HttpService& http, RedisPool& redis);

}  // namespace offers
