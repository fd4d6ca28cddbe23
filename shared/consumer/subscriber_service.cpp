#include "shared/consumer/subscriber_service.hpp"

#include <cstdio>
#include <memory>

#include "shared/common/json.hpp"
#include "shared/common/log.hpp"
#include "shared/common/service_runner.hpp"
#include "shared/consumer/catch_up_task.hpp"
#include "shared/consumer/consumer.hpp"

namespace offers {

int run_subscriber(const SubscriberSettings& settings, const std::string& name,
                   EventHandler& handler, const RouteInstaller& install_routes) {
  set_log_service(name);
  Metrics metrics;
  RedisPool pool(settings.common.redis, std::chrono::seconds(2));
  ServiceRunner runner(settings.common, metrics);
  auto consumer = std::make_unique<Consumer>(runner.loop(), settings, name, handler, metrics,
                                             [&](const std::string&) { runner.shutdown(2); });
  std::unique_ptr<CatchUpTask> catch_up;
  if (settings.catch_up == CatchUpMode::Auto) {
    catch_up = std::make_unique<CatchUpTask>(runner.loop(), settings, name, handler, metrics,
                                             [&] { consumer->release(); });
    consumer->hold([&] { catch_up->start(); });
  }
  install_routes(runner.http(), pool);
  runner.http().set_readiness([&] {
    const auto st = consumer->status();
    const auto cu = catch_up ? catch_up->status() : CatchUpTask::Status{};
    Readiness r;
    r.ready = st.broker_connected && st.consuming && st.redis_connected;
    std::string reason;
    if (!cu.error.empty()) {
      reason = "catch-up from the event feed stopped: " + cu.error;
    } else if (cu.catching_up) {
      reason = "catching up from the event feed";
    } else if (!st.redis_connected) {
      reason = "redis unreachable";
    } else if (!st.broker_connected) {
      reason = "broker unreachable";
    } else if (!st.consuming) {
      reason = "not consuming";
    }
    r.body = std::string("{\"ready\":") + (r.ready ? "true" : "false") +
             ",\"broker\":" + (st.broker_connected ? "\"connected\"" : "\"disconnected\"") +
             ",\"consuming\":" + (st.consuming ? "true" : "false") +
             ",\"redis\":" + (st.redis_connected ? "\"up\"" : "\"down\"") +
             ",\"catchingUp\":" + (cu.catching_up ? "true" : "false") +
             (catch_up ? ",\"position\":" + std::to_string(cu.position) : "") +
             (reason.empty() ? "" : ",\"reason\":" + json_quote(reason)) + "}";
    return r;
  });
  return runner.run({
      .start = [&] { consumer->start(); },
      .stop =
          [&](std::function<void()> done) {
            if (catch_up) catch_up->stop();
            consumer->stop(done);
          },
      .release =
          [&] {
            catch_up.reset();
            consumer.reset();
          },
  });
}

int subscriber_main(const std::string& name, int default_port, EventHandler& handler,
                    const RouteInstaller& install_routes) {
  SubscriberSettings settings;
  try {
    settings =
        load_subscriber(process_env(), default_port,
                        handler.catches_up_by_default() ? CatchUpMode::Auto : CatchUpMode::Off);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "%s: configuration error: %s\n", name.c_str(), e.what());
    return 2;
  }
  return run_subscriber(settings, name, handler, install_routes);
}

}  // namespace offers
