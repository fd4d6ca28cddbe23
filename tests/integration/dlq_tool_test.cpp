#include <catch2/catch.hpp>
#include <cstdio>

#include "shared/common/envelope.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

CommandResult dlq(Sandbox& box, const std::string& args) {
  return run_command("AMQP_URL=" + shell_quote(box.amqp_url()) + " " +
                     shell_quote(bin_path("offers-dlq")) + " " + args);
}

}  // namespace

TEST_CASE("offers-dlq lists - shows - replays and purges dead letters", "[dlq]") {
  Sandbox box;
  auto offers = box.start("special-offers");
  auto loyalty =
      box.start("loyalty", {{"FAIL_ON_DESCRIPTION", "broken"}, {"RETRY_DELAYS", "100ms"}});
  REQUIRE(offers->request("POST", "/offers", R"({"description":"broken one"})").status == 201);
  REQUIRE(offers->request("POST", "/offers", R"({"description":"broken two"})").status == 201);
  REQUIRE(offers->request("POST", "/offers", R"({"description":"fine"})").status == 201);
  auto conn = box.connect_amqp(true);
  publish_confirmed(*conn, "special-offers", "", event_properties("junk-1", "SpecialOfferCreated"),
                    "{junk");
  REQUIRE(wait_until([&] { return box.queue_depth("loyalty.dlq") == 3; }, 30s));

  const auto list = dlq(box, "loyalty list");
  CHECK(list.code == 0);
  CHECK_THAT(list.out, Catch::Contains("3 dead letters in loyalty.dlq"));
  CHECK_THAT(list.out, Catch::Contains("special-offers-1"));
  CHECK_THAT(list.out, Catch::Contains("special-offers-2"));
  CHECK_THAT(list.out, Catch::Contains("junk-1"));
  CHECK_THAT(list.out, Catch::Contains("FAIL_ON_DESCRIPTION"));
  CHECK(box.queue_depth("loyalty.dlq") == 3);  // looking changes nothing

  const auto show = dlq(box, "loyalty show special-offers-2");
  CHECK(show.code == 0);
  CHECK_THAT(show.out, Catch::Contains("x-retry-count: 1"));
  CHECK_THAT(show.out, Catch::Contains("x-subscriber: \"loyalty\""));
  CHECK_THAT(show.out, Catch::Contains("\"description\":\"broken two\""));
  CHECK(dlq(box, "loyalty show 9").code == 1);
  CHECK(box.queue_depth("loyalty.dlq") == 3);

  // Fix the handler, then replay one message by id: its effect lands in loyalty alone.
  loyalty.reset();
  loyalty = box.start("loyalty");
  const auto replay = dlq(box, "loyalty replay special-offers-1");
  CHECK(replay.code == 0);
  CHECK_THAT(replay.out, Catch::Contains("replayed special-offers-1"));
  REQUIRE(wait_until(
      [&] { return loyalty->get("/offers").body.find("broken one") != std::string::npos; }, 20s));
  CHECK(box.queue_depth("loyalty.dlq") == 2);
  // Nobody consumes these two here: the three events and the junk, and no replay.
  CHECK(box.queue_depth("notifications") == 4);
  CHECK(box.queue_depth("statistics") == 4);

  // Replaying an event that was already applied changes nothing.
  const auto applied = box.drain("notifications", 3, 5s);
  REQUIRE(applied.size() == 3);
  publish_confirmed(*conn, "special-offers.dlx", "loyalty", applied[0].props, applied[0].body);
  REQUIRE(wait_until([&] { return box.queue_depth("loyalty.dlq") == 3; }, 10s));
  const std::string before = loyalty->get("/offers").body;
  const double duplicates = metric(*loyalty, "deliveries_total{result=\"duplicate\"}");
  CHECK(dlq(box, "loyalty replay special-offers-1").code == 0);
  REQUIRE(wait_until(
      [&] { return metric(*loyalty, "deliveries_total{result=\"duplicate\"}") == duplicates + 1; },
      20s));
  CHECK(loyalty->get("/offers").body == before);

  // Purge one by position, then the rest.
  CHECK(box.queue_depth("loyalty.dlq") == 2);
  const auto purge_one = dlq(box, "loyalty purge 1");
  CHECK(purge_one.code == 0);
  CHECK(box.queue_depth("loyalty.dlq") == 1);
  const auto purge_all = dlq(box, "loyalty purge --all");
  CHECK(purge_all.code == 0);
  CHECK_THAT(purge_all.out, Catch::Contains("purged 1"));
  CHECK(box.queue_depth("loyalty.dlq") == 0);
  CHECK(dlq(box, "nobody list").code == 2);
}
