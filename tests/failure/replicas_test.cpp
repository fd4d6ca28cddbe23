#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "publisher/offer_store.hpp"
#include "publisher/relay_lease.hpp"
#include "shared/common/json.hpp"
#include "tests/failure/scenario.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

std::string relay_state(Service& svc) {
  rapidjson::Document d;
  std::string error;
  if (!parse_json(svc.get("/readyz").body, d, error) || !d.IsObject() || !d.HasMember("relay")) {
    return "";
  }
  return d["relay"].GetString();
}

// The replica whose relay holds the lease, once exactly one of them says so.
std::string active_relay(Scenario& s) {
  std::string active;
  REQUIRE(wait_until(
      [&] {
        int n = 0;
        for (const auto& name : s.replicas_of("special-offers")) {
          if (relay_state(s.service(name)) == "active") {
            active = name;
            ++n;
          }
        }
        return n == 1;
      },
      20s, 50ms));
  return active;
}

std::string other_replica(Scenario& s, const std::string& name) {
  for (const auto& r : s.replicas_of("special-offers")) {
    if (r != name) return r;
  }
  FAIL("no other replica");
  return "";
}

double published(Service& svc) { return metric(svc, "relay_published_total"); }

Scenario::Options two_publishers(const std::string& lease = "5s") {
  Scenario::Options o{writes()};
  o.replicas["special-offers"] = 2;
  o.env["special-offers"] = {{"RELAY_LEASE", lease}};
  return o;
}

}  // namespace

TEST_CASE("two special-offers replicas under steady writes publish every event once",
          "[failure][replicas]") {
  Scenario s("two publishers, no fault", two_publishers());
  active_relay(s);
  s.start_writes();
  const auto outcomes = s.settle_and_check();
  double total = 0;
  for (const auto& name : s.replicas_of("special-offers")) total += published(s.service(name));
  const auto feed_size = static_cast<double>(outcomes.front().events);
  CHECK(total == feed_size);
  for (const auto& sub : Scenario::subscribers()) {
    INFO(sub);
    CHECK(metric(s.service(sub), "deliveries_total{result=\"duplicate\"}") == 0);
    CHECK(metric(s.service(sub), "deliveries_total{result=\"applied\"}") == feed_size);
  }
}

TEST_CASE("kill -9 of the relay holder mid-stream: the standby takes over", "[failure][replicas]") {
  Scenario s("relay holder kill -9", two_publishers("1s"));
  const auto holder = active_relay(s);
  const auto standby = other_replica(s, holder);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  s.service(holder).kill9();
  REQUIRE(wait_until([&] { return relay_state(s.service(standby)) == "active"; }, 20s, 50ms));
  CHECK(metric(s.service(standby), "relay_takeovers_total") == 1);
  s.wait_writes(2 * writes() / 3);
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("a relay holder paused past its lease never publishes or moves the cursor again",
          "[failure][replicas]") {
  Scenario s("relay holder SIGSTOP", two_publishers("1s"));
  const auto holder = active_relay(s);
  const auto standby = other_replica(s, holder);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  s.pause(holder);
  REQUIRE(wait_until([&] { return relay_state(s.service(standby)) == "active"; }, 20s, 50ms));
  // The new holder publishes what is written meanwhile, then the old one wakes up.
  const double standby_before = published(s.service(standby));
  REQUIRE(wait_until([&] { return published(s.service(standby)) > standby_before + 20; }, 30s));
  s.resume(holder);
  REQUIRE(wait_until([&] { return relay_state(s.service(holder)) == "standby"; }, 10s, 20ms));
  const double woke_with = published(s.service(holder));
  s.wait_writes(writes());
  s.fault_ends();
  s.settle_and_check();
  CHECK(published(s.service(holder)) == woke_with);
  CHECK(relay_state(s.service(holder)) == "standby");
}

TEST_CASE("SIGTERM of the relay holder hands the lease over without waiting for it to expire",
          "[failure][replicas]") {
  // A lease far longer than the wait below: only a lease given up on shutdown passes.
  Scenario s("relay holder SIGTERM", two_publishers("60s"));
  const auto holder = active_relay(s);
  const auto standby = other_replica(s, holder);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  REQUIRE(s.service(holder).terminate() == 0);
  const auto lease = s.box().redis().command({"GET", keys::kRelayLease});
  if (lease->type == REDIS_REPLY_STRING) {
    CHECK(
        std::string(lease->str, lease->len).find(":" + std::to_string(s.service(holder).port())) ==
        std::string::npos);
  }
  REQUIRE(wait_until([&] { return relay_state(s.service(standby)) == "active"; }, 10s, 50ms));
  s.wait_writes(2 * writes() / 3);
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("kill -9 one replica of each subscriber mid-stream while the other consumes",
          "[failure][replicas]") {
  Scenario::Options o{writes()};
  for (const auto& sub : Scenario::subscribers()) o.replicas[sub] = 2;
  Scenario s("subscriber replica kill -9", o);
  s.start_writes();
  s.fault_begins();
  for (const auto& sub : Scenario::subscribers()) {
    s.wait_writes(s.acknowledged() + writes() / 6);
    s.service(sub).kill9();  // its unacknowledged deliveries go to the other replica
  }
  s.wait_writes(writes());
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("a relay whose lease was taken stops publishing and cannot move the cursor",
          "[integration][replicas]") {
  Sandbox box;
  auto publisher = box.start("special-offers", {{"RELAY_LEASE", "1s"}});
  REQUIRE(wait_until([&] { return relay_state(*publisher) == "active"; }, 10s, 20ms));
  REQUIRE(publisher->request("POST", "/offers", R"({"description":"before"})").status == 201);
  REQUIRE(wait_until([&] { return box.queue_depth("loyalty") == 1; }, 10s));
  REQUIRE(wait_until(
      [&] {
        const auto c = box.redis().command({"GET", keys::kRelayCursor});
        return c->type == REDIS_REPLY_STRING && std::string(c->str, c->len) == "1";
      },
      10s));

  // Another holder with a larger token takes the lease, as after a failover of the lease.
  box.redis().command({"SET", keys::kRelayFence, "1000000"});
  box.redis().command({"SET", keys::kRelayLease, "1000000:elsewhere:1", "PX", "60000"});
  REQUIRE(wait_until([&] { return relay_state(*publisher) == "standby"; }, 5s, 20ms));
  for (int i = 0; i < 5; ++i) {
    REQUIRE(publisher->request("POST", "/offers", R"({"description":"during"})").status == 201);
  }
  // The standby keeps asking for the lease (four answers: a second at least) and moves nothing.
  const double asked = metric(*publisher, "relay_lease_requests_total");
  REQUIRE(wait_until([&] { return metric(*publisher, "relay_lease_requests_total") >= asked + 4; },
                     10s, 20ms));
  const auto cursor = box.redis().command({"GET", keys::kRelayCursor});
  CHECK(std::string(cursor->str, cursor->len) == "1");
  CHECK(box.queue_depth("loyalty") == 1);
  CHECK(metric(*publisher, "relay_active") == 0);

  // Once the lease is free again the replica takes it with a new, larger token and catches up.
  box.redis().command({"DEL", keys::kRelayLease});
  REQUIRE(wait_until([&] { return relay_state(*publisher) == "active"; }, 5s, 20ms));
  REQUIRE(wait_until([&] { return box.queue_depth("loyalty") == 6; }, 10s));
  const auto lease = box.redis().command({"GET", keys::kRelayLease});
  REQUIRE(lease->type == REDIS_REPLY_STRING);
  CHECK(std::stoll(std::string(lease->str, lease->len)) > 1000000);
  CHECK(metric(*publisher, "relay_takeovers_total") == 2);
}
