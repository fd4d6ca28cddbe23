#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "tests/support/harness.hpp"
#include "tests/support/json_doc.hpp"

using namespace offers::test;
using namespace std::chrono_literals;

// A small run of every section: the program works end to end and reports every figure. It says
// nothing about speed (that is what the full run is for).
TEST_CASE("the benchmark runs every section and writes each figure and ratio as JSON", "[bench]") {
  Sandbox box;  // for its log folder
  const std::string out = box.log_path("bench-results") + ".json";
  Process bench(bin_path("offers-bench"), {}, box.log_path("bench"),
                {"--rounds",
                 "1",
                 "--events",
                 "300",
                 "--backlog",
                 "300",
                 "--e2e",
                 "300",
                 "--clients",
                 "4",
                 "--rate",
                 "200",
                 "--seconds",
                 "1",
                 "--feed",
                 "300",
                 "--takeovers",
                 "2",
                 "--lease",
                 "1s",
                 "--wrk-seconds",
                 "1",
                 "--idempotency-keys",
                 "on",
                 "--json",
                 out});
  const auto code = bench.wait_exit(170s);
  INFO(bench.log());
  REQUIRE(code == 0);

  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto doc = json(ss.str());
  REQUIRE(doc.IsObject());
  std::set<std::string> sections;
  for (const auto& f : doc["figures"].GetArray()) {
    sections.insert(f["section"].GetString());
    CHECK(f["value"].GetDouble() >= 0);
    if (std::string(f["section"].GetString()).rfind("feed catch-up", 0) == 0 &&
        std::string(f["unit"].GetString()) == "events/s") {
      CHECK(f["value"].GetDouble() > 0);
    }
    if (std::string(f["section"].GetString()).rfind("relay takeover", 0) == 0) {
      CHECK(f["value"].GetDouble() > 0);  // a standby waits for the lease to run out
    }
  }
  for (const char* s :
       {"raw ceiling (rabbitmq-c, no Redis)", "subscriber drain",
        "end to end (HTTP -> outbox -> broker -> 3 subscribers)",
        "feed catch-up (GET /events -> apply-once script)", "relay takeover (RELAY_LEASE=1s)",
        "end to end under wrk (default headers, same connections)"}) {
    CHECK(sections.count(s) == 1);
  }
  std::set<std::string> ratios;
  for (const auto& r : doc["ratios"].GetArray()) {
    ratios.insert(r["name"].GetString());
    CHECK(r["value"].GetDouble() > 0);
    CHECK(r["rounds"].GetArray().Size() == 1);
  }
  CHECK(ratios == std::set<std::string>{"slowest subscriber drain / raw drain",
                                        "end-to-end applied / raw confirmed publish",
                                        "system p99 / raw p99 at fixed rate"});
}

TEST_CASE("the benchmark refuses bad arguments with its usage", "[bench]") {
  Sandbox box;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--rounds", "many"}, {"--backlog"}, {"--colour", "blue"}, {"--broker", "mars"}}) {
    Process bench(bin_path("offers-bench"), {}, box.log_path("bench-args"), args);
    CHECK(bench.wait_exit(10s) == 2);
    CHECK_THAT(bench.log(), Catch::Contains("usage: offers-bench"));
  }
}
