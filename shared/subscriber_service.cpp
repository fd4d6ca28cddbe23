#include "shared/subscriber_service.hpp"

#include <uv.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "shared/consumer.hpp"
#include "shared/log.hpp"
#include "shared/uv_handles.hpp"

namespace offers {

int run_subscriber(const SubscriberSettings& settings, const std::string& name,
                   EventHandler& handler, const RouteInstaller& install_routes) {
  set_log_service(name);
  uv_loop_t loop;
  uv_loop_init(&loop);
  Metrics metrics;
  RedisPool pool(settings.common.redis, std::chrono::seconds(2));
  int exit_code = 0;
  bool shutting_down = false;
  std::unique_ptr<Consumer> consumer;
  std::unique_ptr<HttpService> http;
  std::unique_ptr<Signal> term, intr;

  auto shutdown = [&](int code) {
    if (shutting_down) return;
    shutting_down = true;
    exit_code = code;
    log_info("shutting down");
    consumer->stop([&] {
      http->stop();
      uv_stop(&loop);
    });
  };

  consumer = std::make_unique<Consumer>(&loop, settings, name, handler, metrics,
                                        [&](const std::string&) { shutdown(2); });
  http = std::make_unique<HttpService>(settings.common.http_port, settings.common.http_threads,
                                       metrics);
  install_routes(*http, pool);
  http->set_readiness([&] {
    const auto st = consumer->status();
    Readiness r;
    r.ready = st.broker_connected && st.consuming && st.redis_connected;
    std::string reason;
    if (!st.redis_connected) {
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
             (reason.empty() ? "" : ",\"reason\":\"" + reason + "\"") + "}";
    return r;
  });
  try {
    http->start();
  } catch (const std::exception& e) {
    log_error("cannot serve HTTP",
              {{"error", e.what()}, {"port", std::to_string(settings.common.http_port)}});
    return 1;
  }
  log_info("listening", {{"port", std::to_string(http->port())},
                         {"broker", settings.common.amqp.redacted()},
                         {"redis", settings.common.redis.redacted()}});
  term = std::make_unique<Signal>(&loop, SIGTERM, [&] { shutdown(0); });
  intr = std::make_unique<Signal>(&loop, SIGINT, [&] { shutdown(0); });
  consumer->start();
  uv_run(&loop, UV_RUN_DEFAULT);

  consumer.reset();
  term.reset();
  intr.reset();
  http.reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) log_warn("event loop closed with handles still open");
  log_info("stopped", {{"exit_code", std::to_string(exit_code)}});
  return exit_code;
}

int subscriber_main(const std::string& name, int default_port, EventHandler& handler,
                    const RouteInstaller& install_routes) {
  SubscriberSettings settings;
  try {
    settings = load_subscriber(process_env(), default_port);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "%s: configuration error: %s\n", name.c_str(), e.what());
    return 2;
  }
  return run_subscriber(settings, name, handler, install_routes);
}

}  // namespace offers
