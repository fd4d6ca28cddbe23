#include "publisher/service.hpp"

#include <memory>

#include "publisher/handover.hpp"
#include "publisher/offer_store.hpp"
#include "publisher/offers_api.hpp"
#include "publisher/relay.hpp"
#include "shared/common/log.hpp"
#include "shared/common/service_runner.hpp"
#include "shared/http/api_documents.hpp"

namespace offers {

int run_special_offers(const PublisherSettings& settings) {
  set_log_service("special-offers");
  Metrics metrics;
  RedisPool pool(settings.common.redis, std::chrono::seconds(2));
  OfferStore store(pool);
  ServiceRunner runner(settings.common, metrics);
  // The writer hands committed events to the relay; the hand-over outlives both sides.
  auto handover = std::make_shared<HandOver>(kHandOverCapacity);
  auto relay = std::make_unique<Relay>(runner.loop(), settings, metrics, handover,
                                       [&](const std::string&) { runner.shutdown(2); });
  auto writer =
      std::make_unique<OutboxWriter>(runner.loop(), settings.common.redis, handover, metrics);
  add_offer_routes(runner.http(), store, *writer, settings.events_page_limit,
                   settings.idempotency_ttl);
  add_openapi_route(runner.http(), api::special_offers_openapi());
  runner.http().set_readiness([&] {
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
             ",\"relay\":" + (st.active ? "\"active\"" : "\"standby\"") +
             ",\"outboxLength\":" + std::to_string(length) +
             ",\"confirmed\":" + std::to_string(confirmed) +
             ",\"outboxLag\":" + std::to_string(std::max<int64_t>(0, length - confirmed)) +
             (r.ready ? "" : ",\"reason\":\"redis unreachable\"") + "}";
    return r;
  });
  return runner.run({
      .start =
          [&] {
            writer->start();
            relay->start();
          },
      // No new writes first, then the relay gets a moment to see its window confirmed.
      .stop = [&](std::function<void()> done) { relay->stop(std::chrono::seconds(3), done); },
      // Writes still waiting are answered 503 while the HTTP server is still there.
      .release =
          [&] {
            writer.reset();
            relay.reset();
          },
  });
}

}  // namespace offers
