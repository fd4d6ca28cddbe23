#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <set>
#include <thread>

#include "shared/common/json.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/json_doc.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

void post_offers(Service& offers, int from, int to) {
  for (int i = from; i < to; ++i) {
    REQUIRE(
        offers.request("POST", "/offers", "{\"description\":\"offer " + std::to_string(i) + "\"}")
            .status == 201);
  }
}

}  // namespace

TEST_CASE(
    "with Redis down a subscriber acknowledges nothing - does not spin and applies "
    "everything once after Redis returns",
    "[subscribers][redis]") {
  Sandbox box;
  PrivateRedis redis("statistics");
  auto offers = box.start("special-offers");
  auto stats = box.start("statistics", {{"REDIS_URL", redis.url(0)}});
  post_offers(*offers, 0, 5);
  REQUIRE(
      wait_until([&] { return metric(*stats, "deliveries_total{result=\"applied\"}") == 5; }, 20s));

  redis.kill9();
  REQUIRE(wait_until([&] { return stats->get("/readyz").status == 503; }, 15s));
  CHECK_THAT(stats->get("/readyz").body, Catch::Contains("redis unreachable"));
  post_offers(*offers, 5, 25);
  // Every new event waits in the queue, none acknowledged.
  REQUIRE(wait_until([&] { return box.queue_depth("statistics") == 20; }, 20s));
  const double received_during = metric(*stats, "deliveries_received_total");
  CHECK(box.queue_depth("statistics") == 20);
  // No hot redelivery loop: each waiting event was delivered at most a couple of times.
  CHECK(received_during <= 5 + 2 * 20);

  redis.start();
  REQUIRE(wait_until([&] { return stats->get("/readyz").status == 200; }, 20s));
  REQUIRE(wait_until(
      [&] {
        return box.queue_depth("statistics") == 0 &&
               json(stats->get("/stats").body)["eventsByType"]["SpecialOfferCreated"].GetInt() ==
                   25;
      },
      30s));
  CHECK(json(stats->get("/stats").body)["activeOffers"].GetInt() == 25);
  CHECK(metric(*stats, "deliveries_total{result=\"applied\"}") == 25);
}

TEST_CASE(
    "SIGTERM mid-stream: a subscriber exits 0 within 10 s and after a restart every event "
    "is applied exactly once",
    "[subscribers][shutdown]") {
  Sandbox box;
  auto offers = box.start("special-offers");
  auto notes = box.start("notifications");
  std::thread writer([&] { post_offers(*offers, 0, 150); });
  REQUIRE(wait_until([&] { return metric(*notes, "deliveries_total{result=\"applied\"}") >= 20; },
                     20s));
  const auto t0 = std::chrono::steady_clock::now();
  const int code = notes->terminate(10s);
  const auto took = std::chrono::steady_clock::now() - t0;
  writer.join();
  CHECK(code == 0);
  CHECK(took < 10s);

  notes->restart();
  REQUIRE(notes->wait_ready(20s));
  REQUIRE(wait_until(
      [&] { return json(notes->get("/notifications?limit=1000").body).Size() >= 150; }, 30s));
  REQUIRE(wait_until([&] { return box.queue_depth("notifications") == 0; }, 10s));
  const auto all = json(notes->get("/notifications?limit=1000").body);
  CHECK(all.Size() == 150);  // a notification is not idempotent: a double effect would show here
  std::set<std::string> ids;
  for (const auto& n : all.GetArray()) ids.insert(n["messageId"].GetString());
  CHECK(ids.size() == 150);
}

TEST_CASE("a subscriber reconnects by itself after the broker closes its connection",
          "[subscribers][reconnect]") {
  Sandbox box;
  auto offers = box.start("special-offers");
  auto loyalty = box.start("loyalty");
  post_offers(*offers, 0, 3);
  REQUIRE(wait_until(
      [&] { return loyalty->get("/offers").body.find("offer 2") != std::string::npos; }, 20s));
  // Close loyalty's connection from the broker side.
  int closed = 0;
  REQUIRE(wait_until(
      [&] {
        const auto conns =
            json(box.management("GET", "/api/vhosts/" + box.vhost() + "/connections").body);
        for (const auto& c : conns.GetArray()) {
          const auto& props = c["client_properties"];
          if (!props.HasMember("connection_name") ||
              std::string(props["connection_name"].GetString()) != "loyalty") {
            continue;
          }
          const std::string name = c["name"].GetString();
          closed += box.management("DELETE", "/api/connections/" + url_encode(name)).status == 204;
        }
        return closed > 0;
      },
      15s, 200ms));
  REQUIRE(closed == 1);
  post_offers(*offers, 3, 6);
  REQUIRE(wait_until(
      [&] { return loyalty->get("/offers").body.find("offer 5") != std::string::npos; }, 30s));
  CHECK(loyalty->get("/readyz").status == 200);
  CHECK(metric(*loyalty, "deliveries_total{result=\"applied\"}") == 6);
}
