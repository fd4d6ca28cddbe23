#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <optional>
#include <string>

#include "shared/common/settings.hpp"

namespace offers {

// The Sentinel glue, hiredis having no Sentinel client: where the master is, and how to tell
// that a server stopped being it. Both Redis clients (SyncRedis, AsyncRedis) use it.

// Asks the sentinels of the endpoint in turn (SENTINEL get-master-addr-by-name) for its master's
// address; nullopt, with why in error, when none answers with one. Blocks up to timeout per
// sentinel.
std::optional<HostPort> ask_sentinels(const RedisEndpoint& endpoint,
                                      std::chrono::milliseconds timeout, std::string& error);

// Where to connect: the endpoint's own address, or with sentinels the master's they report.
std::optional<HostPort> redis_address(const RedisEndpoint& endpoint,
                                      std::chrono::milliseconds timeout, std::string& error);

// Whether a reply to ROLE says the server is a master.
bool role_is_master(const redisReply* reply);

// A -READONLY error: the server became a replica (a failover demoted it).
bool is_readonly_error(const redisReply* reply);
bool is_readonly_error(const std::string& message);

}  // namespace offers
