#include "publisher/service.hpp"

#include <uv.h>

#include <csignal>
#include <memory>

#include "publisher/offer_store.hpp"
#include "publisher/offers_api.hpp"
#include "publisher/relay.hpp"
#include "shared/http_service.hpp"
#include "shared/log.hpp"
#include "shared/uv_handles.hpp"

namespace offers {

int run_special_offers(const PublisherSettings& settings) {
  set_log_service("special-offers");
  uv_loop_t loop;
  uv_loop_init(&loop);
  Metrics metrics;
  RedisPool pool(settings.common.redis, std::chrono::seconds(2));
  OfferStore store(pool);
  int exit_code = 0;
  bool shutting_down = false;

  std::unique_ptr<Relay> relay;
  std::unique_ptr<HttpService> http;
  std::unique_ptr<Signal> term, intr;

  auto shutdown = [&](int code) {
    if (shutting_down) return;
    shutting_down = true;
    exit_code = code;
    log_info("shutting down");
    http->stop();
    relay->stop(std::chrono::seconds(3), [&loop] { uv_stop(&loop); });
  };

  relay =
      std::make_unique<Relay>(&loop, settings, metrics, [&](const std::string&) { shutdown(2); });
  http = std::make_unique<HttpService>(settings.common.http_port, settings.common.http_threads,
                                       metrics);
  add_offer_routes(*http, store, settings.events_page_limit, [&relay] { relay->notify(); });
  http->set_readiness([&] {
    const auto st = relay->status();
    Readiness r;
    int64_t length = 0, confirmed = 0;
    try {
      length = store.event_count();
      confirmed = store.relay_cursor();
      r.ready = true;
    } catch (const RedisError&) {
      r.ready = false;
    }
    r.body = std::string("{\"ready\":") + (r.ready ? "true" : "false") +
             ",\"redis\":" + (r.ready ? "\"up\"" : "\"down\"") +
             ",\"broker\":" + (st.broker_connected ? "\"connected\"" : "\"disconnected\"") +
             ",\"brokerBlocked\":" + (st.broker_blocked ? "true" : "false") +
             ",\"outboxLength\":" + std::to_string(length) +
             ",\"confirmed\":" + std::to_string(confirmed) +
             ",\"outboxLag\":" + std::to_string(std::max<int64_t>(0, length - confirmed)) +
             (r.ready ? "" : ",\"reason\":\"redis unreachable\"") + "}";
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
  relay->start();
  uv_run(&loop, UV_RUN_DEFAULT);

  relay.reset();
  term.reset();
  intr.reset();
  http.reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) log_warn("event loop closed with handles still open");
  log_info("stopped", {{"exit_code", std::to_string(exit_code)}});
  return exit_code;
}

}  // namespace offers
