#include <catch2/catch.hpp>
#include <cstdlib>

#include "tests/failure/scenario.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

bool all_subscribers_ready(Scenario& s, bool ready) {
  for (const auto& name : Scenario::subscribers()) {
    if ((s.service(name).get("/readyz").status == 200) != ready) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("network cut between every service and the broker mid-stream", "[failure][network]") {
  TcpProxy proxy(Infra::get().amqp_port);
  Scenario::Options o(writes());
  o.amqp_port = proxy.port();
  Scenario s("network cut", o);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  proxy.cut();
  s.wait_writes(writes() / 2);
  proxy.cut();
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("connections reset (RST) between every service and the broker mid-stream",
          "[failure][network]") {
  TcpProxy proxy(Infra::get().amqp_port);
  Scenario::Options o(writes());
  o.amqp_port = proxy.port();
  Scenario s("network reset", o);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  proxy.reset();
  s.wait_writes(writes() / 2);
  proxy.reset();
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("a stalled network path is detected by heartbeats and recovered from",
          "[failure][network]") {
  TcpProxy proxy(Infra::get().amqp_port);
  Scenario::Options o(writes());
  o.amqp_port = proxy.port();
  Scenario s("network stall", o);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  proxy.stall(true);
  // Nothing is closed: only missed heartbeats (2 s here) can tell the services.
  CHECK(wait_until([&] { return all_subscribers_ready(s, false); }, 30s, 100ms));
  proxy.stall(false);
  CHECK(wait_until([&] { return all_subscribers_ready(s, true); }, 30s, 100ms));
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("services listing two brokers move to the other one when theirs goes away",
          "[failure][network]") {
  // Two ways to the same broker stand in for two nodes of a cluster.
  std::vector<std::unique_ptr<TcpProxy>> nodes;
  nodes.push_back(std::make_unique<TcpProxy>(Infra::get().amqp_port));
  nodes.push_back(std::make_unique<TcpProxy>(Infra::get().amqp_port));
  Scenario::Options o(writes());
  o.amqp_ports = {nodes[0]->port(), nodes[1]->port()};
  Scenario s("broker node gone", o);
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  // The node more services chose goes away: its connections drop and it refuses new ones.
  const size_t gone = nodes[0]->connections() >= nodes[1]->connections() ? 0 : 1;
  const int dropped = nodes[gone]->connections();
  nodes[gone].reset();
  TcpProxy& survivor = *nodes[1 - gone];
  CHECK(dropped > 0);
  CHECK(wait_until([&] { return all_subscribers_ready(s, true); }, 30s, 100ms));
  CHECK(wait_until([&] { return survivor.connections() >= 4; }, 30s, 100ms));
  s.wait_writes(2 * writes() / 3);
  s.fault_ends();
  s.settle_and_check();
}
