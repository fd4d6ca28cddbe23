#include <catch2/catch.hpp>
#include <cstdlib>

#include "shared/common/envelope.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

// Restarts the broker application whatever happens in the test body.
struct AppRestarter {
  ~AppRestarter() { rabbitmqctl("start_app"); }
};

}  // namespace

TEST_CASE(
    "with RabbitMQ stopped - POSTs answer 201 and every event arrives in order after it returns",
    "[publisher][outage]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  REQUIRE(svc->request("POST", "/offers", R"({"description":"before"})").status == 201);
  REQUIRE(box.drain("loyalty", 1, 10s).size() == 1);
  // A queue delivers before the broker's confirm reaches the relay; an event still unconfirmed
  // when the broker stops is rightly sent again, so the outage starts once nothing is in flight.
  REQUIRE(wait_until(
      [&] { return svc->get("/readyz").body.find("\"outboxLag\":0") != std::string::npos; }, 10s));

  {
    AppRestarter restart;
    REQUIRE(rabbitmqctl("stop_app") == 0);
    REQUIRE(wait_until(
        [&] { return svc->get("/readyz").body.find("\"disconnected\"") != std::string::npos; },
        30s));
    for (int i = 0; i < 20; ++i) {
      const auto r =
          svc->request("POST", "/offers", "{\"description\":\"during " + std::to_string(i) + "\"}");
      REQUIRE(r.status == 201);
    }
    REQUIRE(svc->request("PUT", "/offers/2", R"({"description":"changed during"})").status == 200);
    REQUIRE(svc->request("DELETE", "/offers/3").status == 204);
    const auto ready = svc->get("/readyz");
    CHECK(ready.status == 200);  // writes keep going into the outbox
    CHECK_THAT(ready.body, Catch::Contains("\"outboxLag\":22"));
    REQUIRE(rabbitmqctl("start_app") == 0);
  }

  const auto msgs = box.drain("loyalty", 22, 60s);
  REQUIRE(msgs.size() == 22);
  for (size_t i = 0; i < msgs.size(); ++i) {
    const auto e = parse_event(msgs[i].body);
    REQUIRE(e.event);
    CHECK(e.event->sequence_number == static_cast<int64_t>(i + 2));
    CHECK(msgs[i].props.message_id == message_id_for(e.event->sequence_number));
  }
  CHECK(box.drain("loyalty", 1, 500ms).empty());
  CHECK(wait_until(
      [&] { return svc->get("/readyz").body.find("\"outboxLag\":0") != std::string::npos; }, 10s));
}

TEST_CASE("special-offers started while RabbitMQ is down is ready and publishes once it is up",
          "[publisher][outage]") {
  Sandbox box;
  AppRestarter restart;
  REQUIRE(rabbitmqctl("stop_app") == 0);
  auto svc = box.start("special-offers");
  CHECK_THAT(svc->get("/readyz").body, Catch::Contains("\"disconnected\""));
  REQUIRE(svc->request("POST", "/offers", R"({"description":"early"})").status == 201);
  REQUIRE(rabbitmqctl("start_app") == 0);
  const auto msgs = box.drain("statistics", 1, 60s);
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].props.message_id == "special-offers-1");
}
