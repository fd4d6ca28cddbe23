// offers-catchup: rebuilds one subscriber's state from special-offers' event feed, through the
// same apply-once path the subscriber's own catch-up uses. The subscriber must be stopped.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "shared/amqp/amqp_connection.hpp"
#include "shared/amqp/topology.hpp"
#include "shared/common/log.hpp"
#include "shared/consumer/feed_catch_up.hpp"
#include "subscribers/loyalty/loyalty_handler.hpp"
#include "subscribers/notifications/notifications_handler.hpp"
#include "subscribers/statistics/statistics_handler.hpp"

namespace {

int usage() {
  std::fprintf(
      stderr,
      "usage: offers-catchup SUBSCRIBER [--yes]\n"
      "  SUBSCRIBER  loyalty | notifications | statistics (it must be stopped)\n"
      "  --yes       clear its data without asking first\n"
      "Clears what the subscriber built from events (loyalty's users stay) and rebuilds\n"
      "it from the event feed. Uses AMQP_URL, REDIS_URL and FEED_URL like the services.\n");
  return 2;
}

std::unique_ptr<offers::EventHandler> handler_for(const std::string& name) {
  if (name == "loyalty") return std::make_unique<offers::LoyaltyHandler>();
  if (name == "notifications") return std::make_unique<offers::NotificationsHandler>();
  if (name == "statistics") return std::make_unique<offers::StatisticsHandler>();
  return nullptr;
}

// Declares the topology, so that the queue keeps every event published from now on, and returns
// how many consumers the subscriber's queue has.
uint32_t declare_and_count_consumers(const offers::SubscriberSettings& s, const std::string& name) {
  offers::AmqpConnection conn;
  conn.open(s.common.amqp, 0, std::chrono::seconds(10), "offers-catchup");
  conn.open_channel(1);
  offers::declare_topology(conn, 1, s.common.queue_type, s.common.delivery_limit);
  const uint32_t consumers = conn.queue_consumer_count(1, name);
  conn.close();
  return consumers;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) return usage();
  const std::string name = argv[1];
  const bool yes = argc == 3 && std::string(argv[2]) == "--yes";
  if (argc == 3 && !yes) return usage();
  auto handler = handler_for(name);
  if (!handler) return usage();
  offers::set_log_service("offers-catchup");

  offers::SubscriberSettings settings;
  try {
    settings = offers::load_subscriber(offers::process_env(), 0);
  } catch (const offers::ConfigError& e) {
    std::fprintf(stderr, "offers-catchup: configuration error: %s\n", e.what());
    return 2;
  }

  try {
    if (const uint32_t n = declare_and_count_consumers(settings, name); n > 0) {
      std::fprintf(stderr,
                   "offers-catchup: the %s queue has %u consumer%s: stop %s first, then run this "
                   "again\n",
                   name.c_str(), n, n == 1 ? "" : "s", name.c_str());
      return 1;
    }
    if (!yes) {
      std::printf(
          "This deletes what %s built from events in %s (its dedupe keys included) and rebuilds "
          "it from %s/events.\nType yes to go on: ",
          name.c_str(), settings.common.redis.redacted().c_str(), settings.feed.url().c_str());
      std::fflush(stdout);
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "yes" && answer != "y") {
        std::printf("Nothing changed.\n");
        return 1;
      }
    }

    std::atomic<bool> stop{false};
    offers::Metrics metrics;
    offers::FeedCatchUp feed(settings, name, *handler, metrics, stop);
    std::printf("cleared %s: %lld keys deleted\n", name.c_str(), feed.clear_store());
    const auto from = feed.begin();
    if (!from) {
      std::fprintf(stderr, "offers-catchup: %s took events while its store was cleared\n",
                   name.c_str());
      return 1;
    }
    auto last_report = std::chrono::steady_clock::now();
    const auto report = [&] {
      std::printf("%s: %llu events read, position %lld\n", name.c_str(),
                  static_cast<unsigned long long>(feed.seen()),
                  static_cast<long long>(feed.position()));
      std::fflush(stdout);
    };
    feed.run(*from, [&] {
      if (std::chrono::steady_clock::now() - last_report >= std::chrono::seconds(1)) {
        last_report = std::chrono::steady_clock::now();
        report();
      }
    });
    report();
    feed.finish();
    std::printf("%s rebuilt from the feed: %llu events applied, position %lld\n", name.c_str(),
                static_cast<unsigned long long>(feed.applied()),
                static_cast<long long>(feed.position()));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "offers-catchup: %s\n", e.what());
    return 1;
  }
}
