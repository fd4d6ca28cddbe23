#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "shared/redis/redis_sync.hpp"
#include "tests/failure/scenario.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

// Two special-offers replicas (one relay holds the lease), notifications failing every tenth
// event so that retries are always in flight, Redis behind the sentinels.
Scenario::Options replicated(int min_replicas, int redis_replicas) {
  Scenario::Options o{writes()};
  o.sentinel_redis = true;
  o.redis_min_replicas = min_replicas;
  o.redis_replicas = redis_replicas;
  o.replicas["special-offers"] = 2;
  o.env["special-offers"] = {{"RELAY_LEASE", "1s"}};
  o.poison_subscriber = "notifications";
  return o;
}

// Kills the master mid-stream and waits for the sentinels to promote the replica; returns the
// old master's node.
int fail_over(Scenario& s) {
  SentinelGroup& redis = *s.sentinel();
  const int old_master = redis.master_port();
  REQUIRE(old_master != 0);
  s.wait_writes(writes() / 3);
  s.fault_begins();
  const int node = redis.node_of(old_master);
  const auto killed = std::chrono::steady_clock::now();
  redis.kill9(node);
  REQUIRE(redis.wait_failover(old_master, 60s));
  const int before = s.acknowledged();
  REQUIRE(wait_until([&] { return s.acknowledged() > before; }, 60s));
  char line[100];
  std::snprintf(line, sizeof line, "writes acknowledged again %.1f s after the master's kill -9",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count());
  s.note(line);
  return node;
}

}  // namespace

// With REDIS_MIN_REPLICAS=1 a write needs a replica after the failover too: the master has two.
TEST_CASE(
    "kill -9 of the Redis master under writes: a replica is promoted, nothing is lost, "
    "and the old master returns as a replica",
    "[failure][ha][sentinel]") {
  Scenario s("redis master kill -9", replicated(1, 2));
  s.start_writes();
  const int old_node = fail_over(s);
  // Every service heard of the failover from a sentinel (+switch-master).
  for (const std::string name : {"special-offers", "loyalty", "notifications", "statistics"}) {
    INFO(name);
    CHECK(wait_until(
        [&] {
          return s.service(name).process().log().find("sentinel reports a new master") !=
                 std::string::npos;
        },
        10s, 100ms));
  }
  s.wait_writes(2 * writes() / 3);
  // The old master comes back with what it held alone; the sentinels make it a replica of the
  // new master, whose data replace its own.
  SentinelGroup& redis = *s.sentinel();
  redis.start(old_node);
  REQUIRE(redis.wait_replica_synced(redis.port(old_node), 60s));
  s.wait_writes(writes());
  s.fault_ends();
  CHECK(s.all_running());  // no service needed a restart
  s.settle_and_check();
}

TEST_CASE(
    "the Redis replica killed with REDIS_MIN_REPLICAS=1: writes get 503 and deliveries "
    "wait, then everything flows",
    "[failure][ha][sentinel]") {
  Scenario s("redis replica kill -9", replicated(1, 1));
  SentinelGroup& redis = *s.sentinel();
  const int master = redis.master_port();
  const int replica_node = 1 - redis.node_of(master);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  redis.kill9(replica_node);
  Service& publisher = s.service("special-offers");
  REQUIRE(wait_until(
      [&] { return publisher.request("POST", "/offers", R"({"description":"x"})").status == 503; },
      20s, 50ms));
  // Nothing is acknowledged to the broker meanwhile: the deliveries stay in the queues.
  const double applied = metric(s.service("loyalty"), "deliveries_total{result=\"applied\"}");
  CHECK(publisher.request("POST", "/offers", R"({"description":"y"})").status == 503);
  CHECK(metric(s.service("loyalty"), "deliveries_total{result=\"applied\"}") == applied);
  // The loyalty API's own writes wait for the replica too.
  const std::string user = R"({"name":"Ann","settings":{"interests":["coffee"]}})";
  CHECK(s.service("loyalty").request("POST", "/users", user).status == 503);
  redis.start(replica_node, master);
  REQUIRE(redis.wait_replica_synced(redis.port(replica_node), 30s));
  CHECK(
      wait_until([&] { return s.service("loyalty").request("POST", "/users", user).status == 201; },
                 20s, 100ms));
  s.wait_writes(writes());
  s.fault_ends();
  CHECK(s.all_running());
  s.settle_and_check();
}

TEST_CASE("demonstration: kill -9 of the Redis master with REDIS_MIN_REPLICAS=0 (reported only)",
          "[failure][ha][sentinel]") {
  Scenario s("redis master kill -9, no WAIT", replicated(0, 1));
  s.start_writes();
  fail_over(s);
  s.wait_writes(writes());
  s.fault_ends();
  const auto outcomes = s.settle_and_check({false, 20s});
  for (const auto& o : outcomes) {
    s.note("without WAIT " + o.subscriber + " lost " + std::to_string(o.lost) +
           " acknowledged events; " + std::to_string(o.unexpected) + " unexpected");
  }
}

// The blocking client's WAIT (the catch-up's pages, the loyalty API's writes): it returns once
// the replica has every write so far, and throws once REDIS_WAIT_TIMEOUT passes with none.
TEST_CASE("a blocking client's wait for replicas returns with a replica and fails without one",
          "[failure][ha][sentinel]") {
  SentinelGroup redis(1);
  RedisEndpoint ep = redis.endpoint();
  ep.min_replicas = 1;
  ep.wait_timeout = 300ms;
  const int master = redis.master_port();
  const int replica_node = 1 - redis.node_of(master);
  REQUIRE(redis.wait_replica_synced(redis.port(replica_node), 30s));
  SyncRedis conn(ep, 2s);
  // A replica whose link just came up acknowledges offsets once the master counts it online.
  const auto replicated = [&] {
    try {
      conn.wait_replicas();
      return true;
    } catch (const RedisError&) {
      return false;
    }
  };
  conn.command({"SET", "durable:probe", "1"});
  CHECK(wait_until(replicated, 20s));
  redis.kill9(replica_node);
  conn.command({"SET", "durable:probe", "2"});
  CHECK_THROWS_AS(conn.wait_replicas(), RedisError);
  redis.start(replica_node, master);
  REQUIRE(redis.wait_replica_synced(redis.port(replica_node), 30s));
  CHECK(wait_until(replicated, 20s));
  const auto value = conn.command({"GET", "durable:probe"});
  CHECK(std::string(value->str, value->len) == "2");
}
