#include <catch2/catch.hpp>

#include "tests/failure/scenario.hpp"
#include "tests/support/json_doc.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

// Deletes a subscriber's data, as a lost or wiped database would.
void wipe(SyncRedis& redis, const std::string& subscriber) {
  for (const auto& pattern : {subscriber + ":*", "processed:" + subscriber + ":*"}) {
    const auto keys = redis.command({"KEYS", pattern});
    for (size_t i = 0; i < keys->elements; ++i) {
      redis.command({"DEL", std::string(keys->element[i]->str, keys->element[i]->len)});
    }
  }
}

Scenario::Options catching_up() {
  Scenario::Options o{Scenario::default_writes()};
  o.env["special-offers"] = {{"EVENTS_PAGE_LIMIT", "10"}};
  for (const auto& name : Scenario::subscribers()) o.env[name] = {{"CATCH_UP", "auto"}};
  return o;
}

}  // namespace

TEST_CASE("kill -9 in the middle of a catch-up, then a restart: every event applied once",
          "[failure]") {
  Scenario s("kill -9 mid-catch-up", catching_up());
  s.start_writes();
  s.wait_writes(Scenario::default_writes() / 2);
  s.fault_begins();
  // Every subscriber loses its data, comes back with an empty store and dies after three pages
  // of its catch-up (each page one atomic batch), while the writes go on.
  for (const auto& name : Scenario::subscribers()) {
    s.service(name).kill9();
    wipe(s.box().redis(), name);
    s.restart_with(name, {{"FAULT_POINT", "after_catch_up_batch"}, {"FAULT_AFTER", "3"}});
  }
  for (const auto& name : Scenario::subscribers()) s.await_crash_and_restart(name);
  s.fault_ends();
  const auto outcomes = s.settle_and_check();
  for (const auto& name : Scenario::subscribers()) {
    INFO(name);
    CHECK(metric(s.service(name), "catch_up_events_total{result=\"applied\"}") > 0);
  }
}

TEST_CASE(
    "special-offers down during a catch-up: the subscriber waits and finishes when it is "
    "back",
    "[failure]") {
  Scenario s("special-offers down mid-catch-up", catching_up());
  s.start_writes();
  s.wait_writes(Scenario::default_writes() / 2);
  s.fault_begins();
  Service& statistics = s.service("statistics");
  statistics.kill9();
  wipe(s.box().redis(), "statistics");
  s.restart_with("statistics", {{"FAULT_POINT", "after_catch_up_batch"}, {"FAULT_AFTER", "2"}});
  REQUIRE(s.service("statistics").process().wait_exit(60s) == 128 + 9);
  // Half-way through its catch-up, the feed goes away; the subscriber starts again meanwhile.
  s.service("special-offers").kill9();
  s.restart_with("statistics", {}, {"FAULT_POINT", "FAULT_AFTER"});
  Service& restarted = s.service("statistics");
  REQUIRE(wait_until(
      [&] {
        const auto log = restarted.process().log();
        return log.find("event feed unreachable") != std::string::npos &&
               log.find("event feed unreachable", log.find("event feed unreachable") + 1) !=
                   std::string::npos;
      },
      30s));
  const auto r = restarted.get("/readyz");
  CHECK(r.status == 503);
  const auto body = json(r.body);
  CHECK(body["catchingUp"].GetBool());
  CHECK(body["position"].GetInt64() == 20);
  CHECK(restarted.process().running());
  s.service("special-offers").restart();
  REQUIRE(s.service("special-offers").wait_ready(30s));
  REQUIRE(restarted.wait_ready(60s));
  s.fault_ends();
  s.settle_and_check();
}
