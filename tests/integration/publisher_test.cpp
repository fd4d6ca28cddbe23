#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <thread>

#include "shared/common/envelope.hpp"
#include "shared/common/json.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/json_doc.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

TEST_CASE("POST /offers creates an offer and exactly the contract message reaches each queue",
          "[publisher]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  const auto r = svc->request("POST", "/offers", R"({"description":"Two coffees for one"})",
                              {{"X-Request-Id", "req-123"}});
  REQUIRE(r.status == 201);
  CHECK(r.header("Location") == "/offers/1");
  CHECK(r.header("X-Request-Id") == "req-123");
  CHECK(r.body == R"({"id":1,"description":"Two coffees for one"})");

  for (const std::string queue : {"loyalty", "notifications", "statistics"}) {
    INFO(queue);
    const auto msgs = box.drain(queue, 1, 10s);
    REQUIRE(msgs.size() == 1);
    const Message& m = msgs[0];
    CHECK(m.exchange == "special-offers");
    CHECK(m.props.content_type == "application/json");
    CHECK(m.props.delivery_mode == 2);
    CHECK(m.props.message_id == "special-offers-1");
    CHECK(m.props.type == "SpecialOfferCreated");
    CHECK(m.props.app_id == "special-offers");
    CHECK(m.props.correlation_id == "req-123");
    REQUIRE(m.props.timestamp);
    CHECK(*m.props.timestamp > 1700000000u);
    CHECK(m.props.int_header("x-schema-version") == 1);
    const auto e = parse_event(m.body);
    REQUIRE(e.event);
    CHECK(e.event->sequence_number == 1);
    CHECK(e.event->name == "SpecialOfferCreated");
    CHECK(e.event->offer.id == 1);
    CHECK(e.event->offer.description == "Two coffees for one");
    CHECK(e.event->occurred_at.size() == 24);
    CHECK(e.event->occurred_at.back() == 'Z');
  }
  CHECK(box.queue_depth("loyalty.retry") == 0);
  CHECK(box.queue_depth("loyalty.dlq") == 0);
}

TEST_CASE("a request without X-Request-Id gets one - used as the correlation id", "[publisher]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  const auto r = svc->request("POST", "/offers", R"({"description":"tea"})");
  REQUIRE(r.status == 201);
  const std::string id = r.header("X-Request-Id");
  CHECK(id.size() >= 16);
  const auto msgs = box.drain("statistics", 1, 10s);
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].props.correlation_id == id);
}

TEST_CASE("GET - PUT and DELETE work on offers and raise their events in order", "[publisher]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  REQUIRE(svc->request("POST", "/offers", R"({"description":"a"})").status == 201);
  REQUIRE(svc->request("POST", "/offers", R"({"description":"b"})").status == 201);
  CHECK(svc->get("/offers").body == R"([{"id":1,"description":"a"},{"id":2,"description":"b"}])");
  CHECK(svc->get("/offers/2").body == R"({"id":2,"description":"b"})");
  CHECK(svc->get("/offers/3").status == 404);

  const auto put = svc->request("PUT", "/offers/1", R"({"description":"a2"})");
  CHECK(put.status == 200);
  CHECK(put.body == R"({"id":1,"description":"a2"})");
  CHECK(svc->request("PUT", "/offers/9", R"({"description":"x"})").status == 404);
  CHECK(svc->request("DELETE", "/offers/2").status == 204);
  CHECK(svc->request("DELETE", "/offers/2").status == 404);
  CHECK(svc->get("/offers/2").status == 404);
  CHECK(svc->get("/offers").body == R"([{"id":1,"description":"a2"}])");

  const auto msgs = box.drain("loyalty", 4, 10s);
  REQUIRE(msgs.size() == 4);
  const char* names[] = {"SpecialOfferCreated", "SpecialOfferCreated", "SpecialOfferUpdated",
                         "SpecialOfferRemoved"};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(msgs[i].props.type == names[i]);
    CHECK(msgs[i].props.message_id == message_id_for(static_cast<int64_t>(i + 1)));
    const auto e = parse_event(msgs[i].body);
    REQUIRE(e.event);
    CHECK(e.event->sequence_number == static_cast<int64_t>(i + 1));
  }
  const auto upd = parse_event(msgs[2].body);
  CHECK(upd.event->old_offer->description == "a");
  CHECK(upd.event->offer.description == "a2");
  const auto rem = parse_event(msgs[3].body);
  CHECK(rem.event->offer.id == 2);
  CHECK(rem.event->offer.description == "b");
  CHECK(box.drain("loyalty", 1, 300ms).empty());
}

TEST_CASE("the /events feed returns ordered ranges and refuses bad ones", "[publisher]") {
  Sandbox box;
  auto svc = box.start("special-offers", {{"EVENTS_PAGE_LIMIT", "3"}});
  for (int i = 1; i <= 5; ++i) {
    REQUIRE(svc->request("POST", "/offers", "{\"description\":\"o" + std::to_string(i) + "\"}")
                .status == 201);
  }
  auto seqs = [&](const std::string& query) {
    const auto r = svc->get("/events" + query);
    REQUIRE(r.status == 200);
    auto d = json(r.body);
    REQUIRE(d.IsArray());
    std::vector<int64_t> out;
    for (const auto& e : d.GetArray()) out.push_back(e["sequenceNumber"].GetInt64());
    return out;
  };
  CHECK(seqs("?start=2&end=4") == std::vector<int64_t>{2, 3});
  CHECK(seqs("?start=0&end=100") == std::vector<int64_t>{1, 2, 3});  // page limit
  CHECK(seqs("?start=4") == std::vector<int64_t>{4, 5});
  CHECK(seqs("?start=3&end=3").empty());
  CHECK(seqs("?start=9").empty());
  CHECK(seqs("") == std::vector<int64_t>{1, 2, 3});
  const auto full = json(svc->get("/events?start=1&end=2").body);
  CHECK(std::string(full[0]["name"].GetString()) == "SpecialOfferCreated");
  CHECK(std::string(full[0]["content"]["description"].GetString()) == "o1");

  for (const char* bad : {"?start=-1", "?start=5&end=2", "?start=abc", "?end=x", "?start=1.5"}) {
    INFO(bad);
    const auto r = svc->get(std::string("/events") + bad);
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::StartsWith("{\"error\":"));
  }
}

TEST_CASE("/events pages carry a Link to the next page while more events exist", "[publisher]") {
  Sandbox box;
  auto svc = box.start("special-offers", {{"EVENTS_PAGE_LIMIT", "3"}});
  for (int i = 1; i <= 7; ++i) {
    REQUIRE(svc->request("POST", "/offers", "{\"description\":\"o" + std::to_string(i) + "\"}")
                .status == 201);
  }
  // Without an end, the links run to the newest event at the time of the first page.
  auto r = svc->get("/events?start=1");
  CHECK(json(r.body).Size() == 3);
  CHECK(r.header("link") == "</events?start=4&end=8>; rel=\"next\"");
  REQUIRE(svc->request("POST", "/offers", R"({"description":"o8"})").status == 201);
  r = svc->get("/events?start=4&end=8");
  CHECK(json(r.body).Size() == 3);
  CHECK(r.header("link") == "</events?start=7&end=8>; rel=\"next\"");
  r = svc->get("/events?start=7&end=8");
  CHECK(json(r.body).Size() == 1);
  CHECK(r.header("link").empty());
  // With an end: pages of the range, no link past it.
  r = svc->get("/events?start=2&end=6");
  CHECK(json(r.body).Size() == 3);
  CHECK(r.header("link") == "</events?start=5&end=6>; rel=\"next\"");
  CHECK(svc->get("/events?start=2&end=5").header("link").empty());
  CHECK(svc->get("/events?start=5").header("link") == "</events?start=8&end=9>; rel=\"next\"");
  CHECK(svc->get("/events?start=6").header("link").empty());
  CHECK(svc->get("/events?start=20").header("link").empty());
}

TEST_CASE("bad input gets a 4xx JSON error and raises no event", "[publisher]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  REQUIRE(svc->request("POST", "/offers", R"({"description":"kept"})").status == 201);
  REQUIRE(box.drain("notifications", 1, 10s).size() == 1);

  struct Case {
    std::string method, path, body;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST", "/offers", "not json", 400},
      {"POST", "/offers", "", 400},
      {"POST", "/offers", "[1,2]", 400},
      {"POST", "/offers", R"({"title":"x"})", 400},
      {"POST", "/offers", R"({"description":7})", 400},
      {"POST", "/offers", R"({"description":""})", 400},
      {"POST", "/offers", "{\"description\":\"" + std::string(1001, 'x') + "\"}", 400},
      {"POST", "/offers", R"({"description":"x","id":"1"})", 400},
      {"POST", "/offers", "{\"description\":\"" + std::string(70 * 1024, 'x') + "\"}", 413},
      {"PUT", "/offers/1", R"({"description":false})", 400},
      {"PUT", "/offers/1", "{", 400},
      {"PUT", "/offers/abc", R"({"description":"x"})", 400},
      {"PUT", "/offers/0", R"({"description":"x"})", 400},
      {"DELETE", "/offers/-4", "", 400},
      {"GET", "/offers/1x", "", 400},
  };
  for (const auto& c : cases) {
    INFO(c.method << " " << c.path << " " << c.body.substr(0, 40));
    const auto r = svc->request(c.method, c.path, c.body);
    CHECK(r.status == c.status);
    CHECK_THAT(r.body, Catch::StartsWith("{\"error\":\""));
  }
  CHECK(svc->get("/offers").body == R"([{"id":1,"description":"kept"}])");
  CHECK(json(svc->get("/events").body).Size() == 1);
  CHECK(box.drain("notifications", 1, 500ms).empty());
}

TEST_CASE("health - readiness and metrics endpoints", "[publisher]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  CHECK(svc->get("/healthz").status == 200);
  REQUIRE(svc->request("POST", "/offers", R"({"description":"m"})").status == 201);
  REQUIRE(
      wait_until([&] { return json(svc->get("/readyz").body)["outboxLag"].GetInt() == 0; }, 10s));
  const auto ready = svc->get("/readyz");
  CHECK(ready.status == 200);
  INFO(ready.body);
  const auto body = json(ready.body);
  CHECK(std::string(body["broker"].GetString()) == "connected");
  CHECK(std::string(body["redis"].GetString()) == "up");
  CHECK(body["outboxLength"].GetInt() == 1);
  const auto metrics = svc->get("/metrics");
  CHECK(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains("# TYPE outbox_lag gauge"));
  CHECK_THAT(metrics.body, Catch::Contains("relay_confirmed_total 1"));
  CHECK_THAT(metrics.body, Catch::Contains("broker_connected 1"));
}

TEST_CASE("a configuration error names the variable and exits with code 2", "[publisher]") {
  Sandbox box;
  for (const auto& [var, value] : std::vector<std::pair<std::string, std::string>>{
           {"AMQP_URL", "nope://x"}, {"HTTP_PORT", "http"}, {"CONFIRM_WINDOW", "-5"}}) {
    auto env = box.service_env();
    env[var] = value;
    Process p(bin_path("special-offers"), env, box.log_path("bad-config"));
    CHECK(p.wait_exit(10s) == 2);
    CHECK_THAT(p.log(), Catch::Contains(var));
  }
  // Credentials never reach the log.
  auto svc = box.start("special-offers");
  REQUIRE(svc->terminate() == 0);
  CHECK_THAT(svc->process().log(), !Catch::Contains("guest:guest"));
}

TEST_CASE("SIGTERM stops special-offers cleanly with exit code 0", "[publisher]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  REQUIRE(svc->request("POST", "/offers", R"({"description":"bye"})").status == 201);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(svc->terminate(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  // Whatever the relay had not sent yet is still in the outbox and goes out after a restart.
  svc->restart();
  REQUIRE(svc->wait_ready(20s));
  // A publish that was not confirmed before the stop is sent again with the same message id.
  const auto msgs = box.drain("loyalty", 2, 3s);
  REQUIRE(!msgs.empty());
  for (const auto& m : msgs) CHECK(m.props.message_id == "special-offers-1");
}

TEST_CASE("with Redis unreachable - writes answer 503 and change nothing", "[publisher]") {
  Sandbox box;
  auto env = box.service_env();
  env["REDIS_URL"] = "redis://127.0.0.1:" + std::to_string(free_tcp_port()) + "/0";
  env["HTTP_PORT"] = std::to_string(free_tcp_port());
  Service svc("special-offers", bin_path("special-offers"), env, box.log_path("no-redis"));
  REQUIRE(svc.wait_healthy(20s));
  const auto r = svc.request("POST", "/offers", R"({"description":"x"})");
  CHECK(r.status == 503);
  CHECK_THAT(r.body, Catch::Contains("storage unavailable"));
  const auto ready = svc.get("/readyz");
  CHECK(ready.status == 503);
  CHECK_THAT(ready.body, Catch::Contains("redis unreachable"));
}

TEST_CASE("a write made while Redis is down waits for it and is committed once it is back",
          "[publisher][redis]") {
  Sandbox box;
  PrivateRedis redis("offers-writes");
  auto svc = box.start("special-offers", {{"REDIS_URL", redis.url(0)}});
  REQUIRE(svc->request("POST", "/offers", R"({"description":"before"})").status == 201);

  redis.kill9();
  HttpResponse during;
  std::thread client(
      [&] { during = svc->request("POST", "/offers", R"({"description":"during"})"); });
  const bool waited = wait_until([&] { return metric(*svc, "outbox_writes_waiting") == 1; }, 2s);
  redis.start();
  client.join();
  REQUIRE(waited);
  CHECK(during.status == 201);
  CHECK(during.header("Location") == "/offers/2");
  CHECK(metric(*svc, "outbox_writes_waiting") == 0);

  const auto msgs = box.drain("loyalty", 2, 10s);
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].props.message_id == "special-offers-1");
  CHECK(msgs[1].props.message_id == "special-offers-2");
}
