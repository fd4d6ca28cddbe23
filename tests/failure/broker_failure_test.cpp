#include <catch2/catch.hpp>
#include <cstdlib>

#include "tests/failure/scenario.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

int broker(const std::string& action) {
  return run("bash " + shell_quote(source_path("scripts/lib/broker.sh")) + " " + action);
}

// Whatever a test does to the broker, it is running and unblocked afterwards.
struct BrokerGuard {
  ~BrokerGuard() {
    if (rabbitmqctl("await_startup --timeout 2") != 0) broker("restart");
    rabbitmqctl("start_app");
    rabbitmqctl("set_vm_memory_high_watermark 0.4");
  }
};

}  // namespace

TEST_CASE("RabbitMQ stop_app and start_app under load", "[failure][broker]") {
  BrokerGuard guard;
  Scenario s("broker stop_app/start_app", {writes()});
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  REQUIRE(rabbitmqctl("stop_app") == 0);
  s.wait_writes(writes() / 3 + 50);  // writes keep being accepted into the outbox
  REQUIRE(rabbitmqctl("start_app") == 0);
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("RabbitMQ kill -9 and restart under load", "[failure][broker]") {
  BrokerGuard guard;
  Scenario s("broker kill -9", {writes()});
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  REQUIRE(broker("kill") == 0);
  s.wait_writes(writes() / 3 + 50);
  REQUIRE(broker("restart") == 0);
  s.fault_ends();
  s.settle_and_check();
}

TEST_CASE("the broker's memory alarm blocks the relay while writes are still accepted",
          "[failure][broker]") {
  BrokerGuard guard;
  Scenario s("broker memory alarm", {writes()});
  s.start_writes();
  s.wait_writes(writes() / 3);
  s.fault_begins();
  REQUIRE(rabbitmqctl("set_vm_memory_high_watermark absolute 1") == 0);
  Service& publisher = s.service("special-offers");
  // REST writes keep landing in the outbox; the relay's next publish meets the block.
  for (int i = 0; i < 20; ++i) {
    REQUIRE(publisher
                .request("POST", "/offers",
                         "{\"description\":\"during alarm " + std::to_string(i) + "\"}")
                .status == 201);
  }
  CHECK(wait_until(
      [&] {
        return publisher.get("/readyz").body.find("\"brokerBlocked\":true") != std::string::npos;
      },
      30s));
  CHECK(publisher.get("/readyz").status == 200);
  REQUIRE(rabbitmqctl("set_vm_memory_high_watermark 0.4") == 0);
  CHECK(wait_until(
      [&] {
        return publisher.get("/readyz").body.find("\"brokerBlocked\":false") != std::string::npos;
      },
      30s));
  s.fault_ends();
  s.settle_and_check();
}
