#include "tests/support/cluster.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>

#include "tests/failure/scenario.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

// The scenarios share one cluster (see Cluster::shared): each starts from three running nodes.

// Every service lists the three nodes and runs quorum queues on them.
Scenario::Options on_cluster(const Cluster& cluster) {
  Scenario::Options o{writes()};
  o.amqp_ports = cluster.amqp_ports();
  for (const std::string svc : {"special-offers", "loyalty", "notifications", "statistics"}) {
    o.env[svc] = {{"QUEUE_TYPE", "quorum"}, {"RECONNECT_MAX", "1s"}};
  }
  return o;
}

}  // namespace

TEST_CASE("kill -9 the broker node the relay publishes to, under load", "[failure][cluster]") {
  Cluster& cluster = Cluster::shared();
  Scenario s("cluster: relay's node kill -9", on_cluster(cluster));
  int node = -1;
  REQUIRE(wait_until(
      [&] { return (node = cluster.node_of_connection(s.box().vhost(), "special-offers")) >= 0; },
      10s));
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  cluster.kill9(static_cast<size_t>(node));
  // Writes keep being accepted while the relay moves to a surviving node.
  s.wait_writes(2 * writes() / 3);
  REQUIRE(wait_until(
      [&] {
        const int now = cluster.node_of_connection(s.box().vhost(), "special-offers");
        return now >= 0 && now != node;
      },
      30s, 100ms));
  cluster.restart(static_cast<size_t>(node));
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("kill -9 the broker node that leads the subscribers' queues, under load",
          "[failure][cluster]") {
  Cluster& cluster = Cluster::shared();
  Scenario s("cluster: queue leader kill -9", on_cluster(cluster));
  const int leader = cluster.leader_of(s.box().vhost(), "loyalty");
  REQUIRE(leader >= 0);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  cluster.kill9(static_cast<size_t>(leader));
  REQUIRE(wait_until(
      [&] {
        const int now = cluster.leader_of(s.box().vhost(), "loyalty");
        return now >= 0 && now != leader;
      },
      30s, 100ms));
  s.wait_writes(2 * writes() / 3);
  cluster.restart(static_cast<size_t>(leader));
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("retries expiring back into their queue while the node leading them is killed",
          "[failure][cluster]") {
  Cluster& cluster = Cluster::shared();
  auto o = on_cluster(cluster);
  // Every tenth write fails in notifications: its retries expire from notifications.retry back
  // into notifications and finally go to notifications.dlq, at least once, through the kill of
  // the node leading notifications.retry (often notifications too: one connection declares both,
  // and a queue's leader starts on the declaring client's node). The cluster's dead-letter
  // workers resend what their target refused after 5 s instead of 3 minutes (see the README).
  o.poison_subscriber = "notifications";
  o.env["notifications"]["RETRY_DELAYS"] = "300ms,600ms,900ms";
  Scenario s("cluster: kill during retries", o);
  const int leader = cluster.leader_of(s.box().vhost(), "notifications.retry");
  REQUIRE(leader >= 0);
  s.start_writes();
  s.wait_writes(writes() / 2);
  s.fault_begins();
  cluster.kill9(static_cast<size_t>(leader));
  s.wait_writes(writes());
  cluster.restart(static_cast<size_t>(leader));
  s.fault_ends();
  const auto outcomes = s.settle_and_check();
  for (const auto& out : outcomes) {
    if (out.subscriber == "notifications") CHECK(out.dead_lettered > 0);
  }
}

TEST_CASE("a broker node cut off from its peers and its clients, then healed, under load",
          "[failure][cluster]") {
  if (!Cluster::can_partition()) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") {
      FAIL("iptables cannot set rules here (it needs root and the package iptables)");
    }
    WARN("partition not tested: iptables cannot set rules here (needs root and iptables)");
    return;
  }
  Cluster& cluster = Cluster::shared();
  auto o = on_cluster(cluster);
  // A stream of about 30 s whatever the number of writes, so that writes keep coming while the
  // cut is noticed (a tick of 10 s on the broker side, missed heartbeats on the clients' side)
  // and the clients move.
  o.writes_per_second = std::max(10, writes() / 30);
  for (auto& entry : o.env) entry.second["AMQP_HEARTBEAT"] = "5";
  Scenario s("cluster: partition", o);
  const auto vhost = s.box().vhost();
  int node = -1;
  REQUIRE(wait_until(
      [&] { return (node = cluster.node_of_connection(vhost, "special-offers")) >= 0; }, 10s));
  const auto victim = static_cast<size_t>(node);
  const size_t peer = (victim + 1) % cluster.nodes().size();
  s.start_writes();
  s.wait_writes(writes() / 4);
  s.fault_begins();
  {
    Cluster::Partition cut(cluster, victim);
    // The cut is real before anything is judged: the cut-off node, in the minority, pauses
    // itself (pause_minority) and the majority counts it as down.
    REQUIRE(wait_until([&] { return !cluster.running(victim); }, 60s, 500ms));
    REQUIRE(wait_until([&] { return !cluster.sees_running(peer, victim); }, 30s, 500ms));
    // The relay moves to the majority and writes keep being accepted.
    REQUIRE(wait_until(
        [&] {
          const int now = cluster.node_of_connection(vhost, "special-offers");
          return now >= 0 && now != node;
        },
        60s, 500ms));
    s.wait_writes(3 * writes() / 4);
  }
  // Healed: the node finds the majority again, resumes and rejoins.
  REQUIRE(wait_until([&] { return cluster.running(victim) && cluster.sees_running(peer, victim); },
                     120s, 1s));
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("the whole cluster stopped and started again with quorum queues", "[failure][cluster]") {
  Cluster& cluster = Cluster::shared();
  Scenario s("cluster: whole restart", on_cluster(cluster));
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  for (size_t i = cluster.nodes().size(); i-- > 0;) cluster.stop(i);
  // special-offers keeps accepting writes into its outbox with no broker at all.
  s.wait_writes(writes() / 2);
  for (size_t i = 0; i < cluster.nodes().size(); ++i) cluster.restart(i);
  s.fault_ends();
  s.settle_and_check();
}
