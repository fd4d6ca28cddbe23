#include <rapidjson/document.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "tests/support/harness.hpp"
#include "tests/support/json_doc.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

HttpResponse keyed(Service& svc, const std::string& method, const std::string& path,
                   const std::string& key, const std::string& body = "") {
  return svc.request(method, path, body, {{"Idempotency-Key", key}});
}

size_t event_count(Service& svc) { return json(svc.get("/events?start=1").body).GetArray().Size(); }

}  // namespace

TEST_CASE("a repeat with the same Idempotency-Key gets the stored reply and changes nothing",
          "[idempotency]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  const auto first = keyed(*svc, "POST", "/offers", "create-1", R"({"description":"tea"})");
  REQUIRE(first.status == 201);
  CHECK(first.header("Idempotent-Replayed").empty());
  const auto again = keyed(*svc, "POST", "/offers", "create-1", R"({"description":"tea"})");
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  CHECK(again.header("Location") == "/offers/1");
  CHECK(again.header("Idempotent-Replayed") == "true");
  CHECK(event_count(*svc) == 1);

  const std::string put = R"({"description":"green tea"})";
  CHECK(keyed(*svc, "PUT", "/offers/1", "update-1", put).status == 200);
  const auto put_again = keyed(*svc, "PUT", "/offers/1", "update-1", put);
  CHECK(put_again.status == 200);
  CHECK(put_again.body == R"({"id":1,"description":"green tea"})");
  CHECK(put_again.header("Idempotent-Replayed") == "true");

  CHECK(keyed(*svc, "DELETE", "/offers/1", "remove-1").status == 204);
  const auto delete_again = keyed(*svc, "DELETE", "/offers/1", "remove-1");
  CHECK(delete_again.status == 204);
  CHECK(delete_again.header("Idempotent-Replayed") == "true");
  CHECK(event_count(*svc) == 3);

  // A 404 is a reply too: kept, and given back even once the offer exists.
  CHECK(keyed(*svc, "PUT", "/offers/2", "update-2", put).status == 404);
  CHECK(svc->request("POST", "/offers", R"({"description":"cake"})").status == 201);
  const auto missing_again = keyed(*svc, "PUT", "/offers/2", "update-2", put);
  CHECK(missing_again.status == 404);
  CHECK(missing_again.header("Idempotent-Replayed") == "true");
  CHECK(json(svc->get("/offers/2").body)["description"].GetString() == std::string("cake"));
  CHECK(event_count(*svc) == 4);

  // Without the header nothing changes: two POSTs, two offers.
  CHECK(svc->request("POST", "/offers", R"({"description":"cake"})").status == 201);
  CHECK(event_count(*svc) == 5);
  CHECK(box.redis().command({"PTTL", "special-offers:idempotency:create-1"})->integer >
        23 * 3600 * 1000LL);
}

TEST_CASE("the same Idempotency-Key with another method, path or body is a 422", "[idempotency]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  REQUIRE(keyed(*svc, "POST", "/offers", "k", R"({"description":"tea"})").status == 201);
  const auto other_body = keyed(*svc, "POST", "/offers", "k", R"({"description":"coffee"})");
  CHECK(other_body.status == 422);
  CHECK(json(other_body.body)["error"].IsString());
  CHECK(keyed(*svc, "PUT", "/offers/1", "k", R"({"description":"tea"})").status == 422);
  CHECK(keyed(*svc, "DELETE", "/offers/1", "k").status == 422);
  CHECK(svc->get("/offers/1").status == 200);
  CHECK(event_count(*svc) == 1);
}

TEST_CASE("an Idempotency-Key that is not 1 to 255 printable ASCII characters is a 400",
          "[idempotency]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  for (const std::string& bad :
       {std::string(256, 'k'), std::string("caf\xc3\xa9"), std::string()}) {
    INFO(bad.size());
    const auto r = keyed(*svc, "POST", "/offers", bad, R"({"description":"tea"})");
    CHECK(r.status == 400);
    CHECK(json(r.body)["error"].IsString());
  }
  CHECK(keyed(*svc, "POST", "/offers", std::string(255, 'k'), R"({"description":"tea"})").status ==
        201);
  CHECK(event_count(*svc) == 1);
}

TEST_CASE("concurrent requests with one Idempotency-Key apply once", "[idempotency]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  constexpr int kClients = 8;
  std::vector<HttpResponse> replies(kClients);
  std::atomic<int> ready{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kClients) std::this_thread::yield();
      replies[i] = keyed(*svc, "POST", "/offers", "together", R"({"description":"tea"})");
    });
  }
  for (auto& t : clients) t.join();
  int applied = 0, replayed = 0;
  for (const auto& r : replies) {
    INFO(r.status << " " << r.body);
    CHECK((r.status == 201 || r.status == 409));
    if (r.status == 201) {
      CHECK(r.body == R"({"id":1,"description":"tea"})");
      (r.header("Idempotent-Replayed") == "true" ? replayed : applied)++;
    }
  }
  CHECK(applied == 1);
  CHECK(event_count(*svc) == 1);
  CHECK(json(svc->get("/offers").body).GetArray().Size() == 1);
}

TEST_CASE(
    "special-offers killed between the commit and the reply - the retry with the same key "
    "gets the reply and every subscriber applies the event once",
    "[idempotency]") {
  Sandbox box;
  auto loyalty = box.start("loyalty");
  auto notifications = box.start("notifications");
  auto statistics = box.start("statistics");
  auto crashing = box.start("special-offers", {{"FAULT_POINT", "after_commit"}});
  const std::string body = R"({"description":"Two coffees for one"})";
  const auto lost = keyed(*crashing, "POST", "/offers", "retry-me", body);
  CHECK(lost.status == 0);  // the connection ended without a reply
  REQUIRE(crashing->process().wait_exit(10s) == 128 + 9);

  auto offers = box.start("special-offers");
  const auto retried = keyed(*offers, "POST", "/offers", "retry-me", body);
  CHECK(retried.status == 201);
  CHECK(retried.header("Idempotent-Replayed") == "true");
  CHECK(retried.body == R"({"id":1,"description":"Two coffees for one"})");
  // A second offer after it: once it is applied everywhere, so is anything published before.
  REQUIRE(offers->request("POST", "/offers", R"({"description":"Half-price tea"})").status == 201);
  CHECK(event_count(*offers) == 2);

  REQUIRE(wait_until(
      [&] {
        return json(notifications->get("/notifications?limit=10").body).GetArray().Size() >= 2 &&
               json(loyalty->get("/offers").body).GetArray().Size() >= 2 &&
               json(statistics->get("/stats").body)["lastSequenceNumber"].GetInt64() >= 2;
      },
      30s));
  const auto notes = json(notifications->get("/notifications?limit=10").body);
  REQUIRE(notes.GetArray().Size() == 2);
  CHECK(notes[1]["messageId"].GetString() == std::string("special-offers-1"));
  CHECK(json(statistics->get("/stats").body)["eventsByType"]["SpecialOfferCreated"].GetInt64() ==
        2);
  CHECK(json(loyalty->get("/offers").body).GetArray().Size() == 2);
}
