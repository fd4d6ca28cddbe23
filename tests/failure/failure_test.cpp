#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <random>

#include "shared/common/json.hpp"
#include "tests/failure/scenario.hpp"
#include "tests/support/process.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {}  // namespace

TEST_CASE("kill -9 each subscriber twice at random moments mid-stream", "[failure]") {
  Scenario s("kill -9 subscribers", {writes()});
  std::mt19937 rng(42);
  s.start_writes();
  s.fault_begins();
  for (int round = 0; round < 2; ++round) {
    for (const auto& name : Scenario::subscribers()) {
      s.wait_writes(s.acknowledged() + 10 + static_cast<int>(rng() % 30));
      s.kill_and_restart(name);
    }
  }
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("kill -9 subscribers after the delivery and before the Redis step", "[failure]") {
  Scenario::Options o{writes()};
  for (const auto& name : Scenario::subscribers()) {
    o.env[name] = {{"FAULT_POINT", "after_delivery"}, {"FAULT_AFTER", "25"}};
  }
  Scenario s("crash before the Redis step", o);
  s.start_writes();
  s.fault_begins();
  for (const auto& name : Scenario::subscribers()) s.await_crash_and_restart(name);
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("kill -9 subscribers after the Redis step and before the ack", "[failure]") {
  Scenario::Options o{writes()};
  for (const auto& name : Scenario::subscribers()) {
    o.env[name] = {{"FAULT_POINT", "after_redis"}, {"FAULT_AFTER", "25"}};
  }
  Scenario s("crash between Redis and ack", o);
  s.start_writes();
  s.fault_begins();
  for (const auto& name : Scenario::subscribers()) s.await_crash_and_restart(name);
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("kill -9 subscribers during a batch of multi-acks", "[failure]") {
  Scenario s("crash during a multi-ack", {writes()});
  // A backlog makes the subscribers settle many deliveries per read: acks go out in batches.
  for (const auto& name : Scenario::subscribers()) s.service(name).kill9();
  s.start_writes();
  s.wait_writes(writes() / 2);
  s.fault_begins();
  for (const auto& name : Scenario::subscribers()) {
    s.restart_with(name, {{"FAULT_POINT", "during_multi_ack"}, {"FAULT_AFTER", "1"}});
  }
  for (const auto& name : Scenario::subscribers()) s.await_crash_and_restart(name);
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("kill -9 special-offers between the outbox write and the publish", "[failure]") {
  Scenario::Options o{writes()};
  o.env["special-offers"] = {{"FAULT_POINT", "before_publish"}, {"FAULT_AFTER", "20"}};
  Scenario s("publisher crash before publish", o);
  s.start_writes();
  s.fault_begins();
  s.await_crash_and_restart("special-offers");
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("kill -9 special-offers between the publish and the confirm", "[failure]") {
  Scenario::Options o{writes()};
  o.env["special-offers"] = {{"FAULT_POINT", "after_publish"}, {"FAULT_AFTER", "60"}};
  Scenario s("publisher crash before confirm", o);
  s.start_writes();
  s.fault_begins();
  s.await_crash_and_restart("special-offers");
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("Redis kill -9 and restart under load", "[failure]") {
  Scenario::Options o{writes()};
  o.private_redis = true;
  Scenario s("redis kill -9", o);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  s.redis()->kill9();
  // Writes fail (503) while Redis is down; subscribers stop consuming.
  REQUIRE(wait_until([&] { return s.service("loyalty").get("/readyz").status == 503; }, 20s));
  s.redis()->start();
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("one subscriber down for a while under load drains its backlog in bounded memory",
          "[failure]") {
  Scenario s("subscriber down then back", {writes()});
  s.service("statistics").kill9();
  s.start_writes();
  s.fault_begins();
  s.finish_writes();
  REQUIRE(wait_until([&] { return s.box().queue_depth("statistics") > 0; }, 20s));
  s.fault_ends();
  s.restart_with("statistics", {});
  REQUIRE(wait_until([&] { return s.box().queue_depth("statistics") == 0; }, 60s));
  const long rss = proc_status_kib(s.service("statistics").process().pid(), "VmRSS");
  std::printf("statistics RSS after draining its backlog: %ld KiB\n", rss);
  CHECK(rss > 0);
  CHECK(rss < 256 * 1024);
  s.settle_and_check();
}

TEST_CASE("a poison message and a permanently failing handler mid-stream", "[failure]") {
  Scenario::Options o{writes()};
  o.poison_subscriber = "notifications";
  Scenario s("poison and failing handler", o);
  auto conn = s.box().connect_amqp(true);
  s.start_writes();
  s.wait_writes(writes() / 2);
  publish_confirmed(*conn, "special-offers", "",
                    event_properties("poison-pill", "SpecialOfferCreated"),
                    "{\"this is\": not json");
  s.finish_writes();
  const auto outcomes = s.settle_and_check();
  // The unparseable message is in every DLQ; the failing handler's events only in its own.
  for (const auto& out : outcomes) {
    INFO(out.subscriber);
    if (out.subscriber == "notifications") {
      CHECK(out.dead_lettered > 1);
    } else {
      CHECK(out.dead_lettered == 1);
    }
  }
}

TEST_CASE("SIGTERM to every process under load exits 0 within 10 s and loses nothing",
          "[failure]") {
  Scenario s("SIGTERM under load", {writes()});
  s.start_writes();
  s.fault_begins();
  for (const std::string name : {"loyalty", "notifications", "statistics", "special-offers"}) {
    s.wait_writes(s.acknowledged() + 30);
    INFO(name);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(s.service(name).terminate(10s) == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    s.restart_with(name, {});
  }
  s.fault_ends();
  s.settle_and_check();
}
