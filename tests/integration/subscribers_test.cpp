#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <set>

#include "shared/common/envelope.hpp"
#include "shared/common/json.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/json_doc.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

struct System {
  Sandbox box;
  std::unique_ptr<Service> offers, loyalty, notifications, statistics;
  explicit System(std::map<std::string, std::map<std::string, std::string>> env = {}) {
    offers = box.start("special-offers", env["special-offers"]);
    loyalty = box.start("loyalty", env["loyalty"]);
    notifications = box.start("notifications", env["notifications"]);
    statistics = box.start("statistics", env["statistics"]);
  }
  std::vector<Service*> subscribers() {
    return {loyalty.get(), notifications.get(), statistics.get()};
  }
};

double settled(Service& s, const char* result) {
  return metric(s, std::string("deliveries_total{result=\"") + result + "\"}");
}

double settled_total(Service& s) {
  double n = 0;
  for (const char* r :
       {"applied", "duplicate", "stale", "ignored", "retried", "dead_lettered", "malformed"}) {
    n += settled(s, r);
  }
  return n;
}

bool wait_settled(Service& s, double n, std::chrono::milliseconds deadline = 20s) {
  return wait_until([&] { return settled_total(s) >= n; }, deadline, 50ms);
}

int64_t stat(Service& statistics, const char* field) {
  return json(statistics.get("/stats").body)[field].GetInt64();
}

std::string created(int64_t seq, int64_t id, const std::string& description) {
  return build_event_json(seq, "2026-11-21T10:00:00.000Z", kOfferCreated,
                          build_offer_json(id, description));
}

}  // namespace

TEST_CASE("one POST reaches all three subscribers and their APIs show it", "[subscribers]") {
  System sys;
  const auto user = sys.loyalty->request("POST", "/users",
                                         R"({"name":"Ann","settings":{"interests":["coffee"]}})");
  REQUIRE(user.status == 201);
  CHECK(user.body ==
        R"({"id":1,"name":"Ann","loyaltyPoints":0,"settings":{"interests":["coffee"]}})");
  CHECK(user.header("Location") == "/users/1");
  REQUIRE(
      sys.offers->request("POST", "/offers", R"({"description":"Two COFFEES for one"})").status ==
      201);
  REQUIRE(sys.offers->request("POST", "/offers", R"({"description":"Half-price tea"})").status ==
          201);

  for (Service* s : sys.subscribers()) REQUIRE(wait_settled(*s, 2));
  CHECK(
      sys.loyalty->get("/offers").body ==
      R"([{"id":1,"description":"Two COFFEES for one"},{"id":2,"description":"Half-price tea"}])");
  CHECK(sys.loyalty->get("/users/1/offers").body ==
        R"([{"id":1,"description":"Two COFFEES for one"}])");
  const auto notes = json(sys.notifications->get("/notifications").body);
  REQUIRE(notes.Size() == 2);
  CHECK(std::string(notes[0]["messageId"].GetString()) == "special-offers-2");  // newest first
  CHECK(std::string(notes[0]["event"].GetString()) == "SpecialOfferCreated");
  CHECK(notes[0]["offerId"].GetInt() == 2);
  CHECK(std::string(notes[0]["text"].GetString()) == "New offer: Half-price tea");
  CHECK(std::string(notes[1]["messageId"].GetString()) == "special-offers-1");
  CHECK(json(sys.notifications->get("/notifications?limit=1").body).Size() == 1);
  const auto stats = json(sys.statistics->get("/stats").body);
  CHECK(stats["eventsByType"]["SpecialOfferCreated"].GetInt() == 2);
  CHECK(stats["activeOffers"].GetInt() == 2);
  CHECK(stats["lastSequenceNumber"].GetInt() == 2);
  CHECK(stats["ignored"].GetInt() == 0);

  REQUIRE(sys.offers->request("PUT", "/offers/2", R"({"description":"Free coffee"})").status ==
          200);
  REQUIRE(sys.offers->request("DELETE", "/offers/1").status == 204);
  for (Service* s : sys.subscribers()) REQUIRE(wait_settled(*s, 4));
  CHECK(sys.loyalty->get("/offers").body == R"([{"id":2,"description":"Free coffee"}])");
  CHECK(sys.loyalty->get("/users/1/offers").body == R"([{"id":2,"description":"Free coffee"}])");
  CHECK(stat(*sys.statistics, "activeOffers") == 1);
  CHECK(json(sys.notifications->get("/notifications").body).Size() == 4);

  // Each queue has exactly one consumer.
  for (const std::string q : {"loyalty", "notifications", "statistics"}) {
    INFO(q);
    CHECK(wait_until(
        [&] {
          const auto info =
              json(sys.box.management("GET", "/api/queues/" + sys.box.vhost() + "/" + q).body);
          return info.HasMember("consumers") && info["consumers"].GetInt() == 1;
        },
        15s, 200ms));
  }
}

TEST_CASE("the same event published three times has its effect once in every subscriber",
          "[subscribers]") {
  System sys;
  auto conn = sys.box.connect_amqp(true);
  const std::string body = created(1, 1, "once only");
  for (int i = 0; i < 3; ++i) {
    publish_confirmed(*conn, "special-offers", "",
                      event_properties("special-offers-1", "SpecialOfferCreated"), body);
  }
  for (Service* s : sys.subscribers()) {
    REQUIRE(wait_settled(*s, 3));
    CHECK(settled(*s, "applied") == 1);
    CHECK(settled(*s, "duplicate") == 2);
  }
  CHECK(json(sys.notifications->get("/notifications").body).Size() == 1);
  CHECK(json(sys.statistics->get("/stats").body)["eventsByType"]["SpecialOfferCreated"].GetInt() ==
        1);
  CHECK(sys.loyalty->get("/offers").body == R"([{"id":1,"description":"once only"}])");
  CHECK(sys.box.redis().command({"EXISTS", "processed:loyalty:special-offers-1"})->integer == 1);
  const auto ttl =
      sys.box.redis().command({"TTL", "processed:statistics:special-offers-1"})->integer;
  CHECK(ttl > 24 * 3600);
}

TEST_CASE("malformed messages go to every S.dlq - change nothing and the flow continues",
          "[subscribers]") {
  System sys;
  auto conn = sys.box.connect_amqp(true);
  publish_confirmed(*conn, "special-offers", "", event_properties("bad-1", "SpecialOfferCreated"),
                    "not json");
  publish_confirmed(*conn, "special-offers", "", event_properties("", "SpecialOfferCreated"),
                    created(1, 1, "no id"));
  publish_confirmed(
      *conn, "special-offers", "", event_properties("bad-3", "SpecialOfferCreated"),
      R"({"sequenceNumber":1,"occurredAt":"x","name":"SpecialOfferCreated","content":{"id":"one"}})");
  REQUIRE(sys.offers->request("POST", "/offers", R"({"description":"good"})").status == 201);
  for (Service* s : sys.subscribers()) {
    REQUIRE(wait_settled(*s, 4));
    CHECK(settled(*s, "malformed") == 3);
    CHECK(settled(*s, "applied") == 1);
  }
  for (const char* q : {"loyalty.dlq", "notifications.dlq", "statistics.dlq"}) {
    INFO(q);
    CHECK(wait_until([&] { return sys.box.queue_depth(q) == 3; }, 10s));
  }
  CHECK(sys.loyalty->get("/offers").body == R"([{"id":1,"description":"good"}])");
  CHECK(json(sys.notifications->get("/notifications").body).Size() == 1);
  CHECK(stat(*sys.statistics, "activeOffers") == 1);
  const auto dead = sys.box.drain("statistics.dlq", 3, 5s);
  REQUIRE(dead.size() == 3);
  CHECK(dead[0].body == "not json");
  CHECK(dead[0].props.header("x-death") != nullptr);
}

TEST_CASE(
    "a failing handler is retried with the configured delays - then dead-lettered with its "
    "headers - the other subscribers never see the retries",
    "[subscribers]") {
  System sys(
      {{"loyalty", {{"FAIL_ON_DESCRIPTION", "poison"}, {"RETRY_DELAYS", "300ms,600ms,900ms"}}}});
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(sys.offers->request("POST", "/offers", R"({"description":"poison pill"})").status == 201);
  REQUIRE(sys.offers->request("POST", "/offers", R"({"description":"wholesome"})").status == 201);

  REQUIRE(wait_until([&] { return sys.box.queue_depth("loyalty.dlq") == 1; }, 30s));
  // The delays add up to 1.8 s: the message cannot reach the DLQ before they have passed.
  CHECK(std::chrono::steady_clock::now() - t0 >= 1800ms);
  CHECK(settled(*sys.loyalty, "retried") == 3);
  CHECK(settled(*sys.loyalty, "dead_lettered") == 1);
  CHECK(sys.loyalty->get("/offers").body == R"([{"id":2,"description":"wholesome"}])");
  CHECK(sys.box.queue_depth("loyalty.retry") == 0);

  const auto dead = sys.box.drain("loyalty.dlq", 1, 5s);
  REQUIRE(dead.size() == 1);
  const Message& d = dead[0];
  CHECK(d.props.message_id == "special-offers-1");
  CHECK(d.props.int_header("x-retry-count") == 3);
  CHECK_THAT(d.props.string_header("x-error").value_or(""), Catch::Contains("FAIL_ON_DESCRIPTION"));
  CHECK(d.props.string_header("x-subscriber") == "loyalty");
  CHECK(d.props.string_header("x-failed-at").value_or("").size() == 24);
  CHECK(parse_event(d.body).event->offer.description == "poison pill");

  for (Service* s : {sys.notifications.get(), sys.statistics.get()}) {
    REQUIRE(wait_settled(*s, 2));
    CHECK(metric(*s, "deliveries_received_total") == 2);
    CHECK(settled(*s, "applied") == 2);
  }
  CHECK(json(sys.notifications->get("/notifications").body).Size() == 2);
  CHECK(stat(*sys.statistics, "activeOffers") == 2);
  CHECK(sys.box.queue_depth("notifications.dlq") == 0);
  CHECK(sys.box.queue_depth("statistics.dlq") == 0);
}

TEST_CASE(
    "a Redis error in one event's effect fails that delivery alone - the rest of its batch is "
    "applied - it is retried and dead-lettered with the error and stays unapplied",
    "[subscribers]") {
  Sandbox box;
  auto offers = box.start("special-offers");
  for (int i = 1; i <= 3; ++i) {
    REQUIRE(
        offers->request("POST", "/offers", "{\"description\":\"offer " + std::to_string(i) + "\"}")
            .status == 201);
  }
  REQUIRE(wait_until([&] { return box.queue_depth("loyalty") == 3; }, 10s));
  // Offer 2's last sequence number is not a number: comparing with it raises a Lua error.
  box.redis().command({"HSET", "loyalty:offer_seq", "2", "not a number"});
  auto loyalty = box.start("loyalty", {{"RETRY_DELAYS", "200ms,200ms"}});

  REQUIRE(wait_until([&] { return box.queue_depth("loyalty.dlq") == 1; }, 20s));
  CHECK(loyalty->get("/offers").body ==
        R"([{"id":1,"description":"offer 1"},{"id":3,"description":"offer 3"}])");
  CHECK(settled(*loyalty, "applied") == 2);
  CHECK(settled(*loyalty, "retried") == 2);
  CHECK(settled(*loyalty, "dead_lettered") == 1);
  CHECK(box.redis().command({"EXISTS", "processed:loyalty:special-offers-2"})->integer == 0);
  CHECK(box.redis().command({"EXISTS", "processed:loyalty:special-offers-3"})->integer == 1);
  const auto dead = box.drain("loyalty.dlq", 1, 5s);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].props.message_id == "special-offers-2");
  CHECK_THAT(dead[0].props.string_header("x-error").value_or(""), Catch::Contains("redis: "));
  CHECK(dead[0].props.int_header("x-retry-count") == 2);
}

TEST_CASE("unknown event names are acknowledged and counted as ignored", "[subscribers]") {
  System sys;
  auto conn = sys.box.connect_amqp(true);
  publish_confirmed(
      *conn, "special-offers", "", event_properties("special-offers-1", "SpecialOfferArchived"),
      R"({"sequenceNumber":1,"occurredAt":"x","name":"SpecialOfferArchived","content":{"id":1}})");
  publish_confirmed(
      *conn, "special-offers", "", event_properties("special-offers-1", "SpecialOfferArchived"),
      R"({"sequenceNumber":1,"occurredAt":"x","name":"SpecialOfferArchived","content":{"id":1}})");
  for (Service* s : sys.subscribers()) {
    REQUIRE(wait_settled(*s, 2));
    CHECK(settled(*s, "ignored") == 1);
    CHECK(settled(*s, "duplicate") == 1);
  }
  CHECK(stat(*sys.statistics, "ignored") == 1);
  CHECK(json(sys.notifications->get("/notifications").body).Size() == 0);
  CHECK(sys.box.queue_depth("loyalty") == 0);
  CHECK(sys.box.queue_depth("loyalty.dlq") == 0);
}

TEST_CASE("an Updated event delivered after the Removed event leaves the offer removed",
          "[subscribers]") {
  System sys;
  auto conn = sys.box.connect_amqp(true);
  const std::string offer = build_offer_json(1, "late");
  const std::string updated_offer = build_offer_json(1, "later");
  publish_confirmed(*conn, "special-offers", "",
                    event_properties("special-offers-1", "SpecialOfferCreated"),
                    build_event_json(1, "t", kOfferCreated, offer));
  publish_confirmed(*conn, "special-offers", "",
                    event_properties("special-offers-3", "SpecialOfferRemoved"),
                    build_event_json(3, "t", kOfferRemoved, "{\"offer\":" + updated_offer + "}"));
  publish_confirmed(
      *conn, "special-offers", "", event_properties("special-offers-2", "SpecialOfferUpdated"),
      build_event_json(2, "t", kOfferUpdated,
                       "{\"oldOffer\":" + offer + ",\"newOffer\":" + updated_offer + "}"));
  // A Created delivered late (a retry) must not bring it back either.
  publish_confirmed(*conn, "special-offers", "",
                    event_properties("special-offers-1b", "SpecialOfferCreated"),
                    build_event_json(1, "t", kOfferCreated, offer));
  for (Service* s : sys.subscribers()) REQUIRE(wait_settled(*s, 4));
  CHECK(sys.loyalty->get("/offers").body == "[]");
  CHECK(settled(*sys.loyalty, "stale") == 2);
  CHECK(stat(*sys.statistics, "activeOffers") == 0);
  CHECK(stat(*sys.statistics, "stale") == 2);
  CHECK(stat(*sys.statistics, "lastSequenceNumber") == 3);
}

TEST_CASE("loyalty validates user input and answers 404 for unknown users", "[subscribers]") {
  Sandbox box;
  auto loyalty = box.start("loyalty");
  for (const std::string body :
       {"", "[]", R"({"name":""})", R"({"name":5})", R"({"settings":{}})",
        R"({"name":"a","settings":[]})", R"({"name":"a","settings":{"interests":"x"}})",
        R"({"name":"a","settings":{"interests":[1]}})"}) {
    INFO(body);
    const auto r = loyalty->request("POST", "/users", body);
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::StartsWith("{\"error\":"));
  }
  CHECK(loyalty->get("/users/1").status == 404);
  CHECK(loyalty->get("/users/x").status == 400);
  CHECK(loyalty->request("PUT", "/users/1", R"({"name":"b"})").status == 404);
  REQUIRE(loyalty->request("POST", "/users", R"({"name":"Bo"})").status == 201);
  const auto put =
      loyalty->request("PUT", "/users/1", R"({"name":"Bob","settings":{"interests":["tea"]}})");
  CHECK(put.status == 200);
  CHECK(put.body == R"({"id":1,"name":"Bob","loyaltyPoints":0,"settings":{"interests":["tea"]}})");
  CHECK(loyalty->get("/users/1").body == put.body);
  CHECK(loyalty->get("/users/2/offers").status == 404);
}

TEST_CASE("notifications validates its limit", "[subscribers]") {
  Sandbox box;
  auto n = box.start("notifications");
  for (const char* q : {"?limit=0", "?limit=-1", "?limit=abc", "?limit=100000"}) {
    INFO(q);
    CHECK(n->get(std::string("/notifications") + q).status == 400);
  }
  CHECK(n->get("/notifications?limit=5").body == "[]");
}

TEST_CASE("a subscriber with a bad setting exits with code 2 naming it", "[subscribers]") {
  Sandbox box;
  for (const char* binary : {"loyalty", "notifications", "statistics"}) {
    auto env = box.service_env();
    env["RETRY_DELAYS"] = "1s,soon";
    Process p(bin_path(binary), env, box.log_path(std::string("bad-") + binary));
    CHECK(p.wait_exit(10s) == 2);
    CHECK_THAT(p.log(), Catch::Contains("RETRY_DELAYS"));
  }
}

TEST_CASE("with QUEUE_TYPE=quorum the topology is quorum and retries and dead letters still work",
          "[subscribers][quorum]") {
  const std::map<std::string, std::string> quorum{{"QUEUE_TYPE", "quorum"},
                                                  {"DELIVERY_LIMIT", "5"}};
  auto failing = quorum;
  failing["FAIL_ON_DESCRIPTION"] = "poison";
  failing["RETRY_DELAYS"] = "100ms,200ms";
  System sys({{"special-offers", quorum},
              {"loyalty", failing},
              {"notifications", quorum},
              {"statistics", quorum}});
  for (const std::string q : {"loyalty", "loyalty.retry", "loyalty.dlq", "statistics"}) {
    INFO(q);
    const auto info =
        json(sys.box.management("GET", "/api/queues/" + sys.box.vhost() + "/" + q).body);
    CHECK(std::string(info["type"].GetString()) == "quorum");
  }
  const auto main =
      json(sys.box.management("GET", "/api/queues/" + sys.box.vhost() + "/loyalty").body);
  CHECK(main["arguments"]["x-delivery-limit"].GetInt() == 5);
  for (const std::string q : {"loyalty", "loyalty.retry"}) {
    INFO(q);
    const auto info =
        json(sys.box.management("GET", "/api/queues/" + sys.box.vhost() + "/" + q).body);
    CHECK(std::string(info["arguments"]["x-dead-letter-strategy"].GetString()) == "at-least-once");
    CHECK(std::string(info["arguments"]["x-overflow"].GetString()) == "reject-publish");
  }
  REQUIRE(sys.offers->request("POST", "/offers", R"({"description":"poison"})").status == 201);
  REQUIRE(sys.offers->request("POST", "/offers", R"({"description":"fine"})").status == 201);
  REQUIRE(wait_until([&] { return sys.box.queue_depth("loyalty.dlq") == 1; }, 30s));
  CHECK(settled(*sys.loyalty, "retried") == 2);
  CHECK(sys.loyalty->get("/offers").body == R"([{"id":2,"description":"fine"}])");
  for (Service* s : {sys.notifications.get(), sys.statistics.get()}) REQUIRE(wait_settled(*s, 2));
  CHECK(stat(*sys.statistics, "activeOffers") == 2);
}
