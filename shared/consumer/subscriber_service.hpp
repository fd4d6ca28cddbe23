#pragma once

#include <functional>
#include <string>

#include "shared/common/settings.hpp"
#include "shared/consumer/event_handler.hpp"
#include "shared/http/http_service.hpp"
#include "shared/redis/redis_sync.hpp"

namespace offers {

using RouteInstaller = std::function<void(HttpService& http, RedisPool& redis)>;

// Runs a subscriber process until SIGTERM or SIGINT: the consumer on a libuv loop, its HTTP API
// (health, readiness, metrics and the routes the installer adds) on Pistache's threads.
// Returns the exit code.
int run_subscriber(const SubscriberSettings& settings, const std::string& name,
                   EventHandler& handler, const RouteInstaller& install_routes);

// Entry point shared by the subscriber executables: reads the settings (exit 2 on a bad one).
int subscriber_main(const std::string& name, int default_port, EventHandler& handler,
                    const RouteInstaller& install_routes);

}  // namespace offers
