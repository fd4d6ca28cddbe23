#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <thread>

#include "shared/common/envelope.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/json_doc.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

// Writes through the API until n more events exist: creates, updates and removals, so that the
// order of the events matters to the subscribers' state.
class Writer {
 public:
  explicit Writer(Service& offers) : offers_(offers) {}
  void write(int n) {
    for (int i = 0; i < n; ++i) {
      ++count_;
      if (alive_.size() < 4 || count_ % 3 == 0) {
        const auto r = offers_.request(
            "POST", "/offers", "{\"description\":\"offer " + std::to_string(count_) + "\"}");
        REQUIRE(r.status == 201);
        alive_.push_back(json(r.body)["id"].GetInt64());
      } else if (count_ % 3 == 1) {
        const int64_t id = alive_[static_cast<size_t>(count_) % alive_.size()];
        REQUIRE(offers_
                    .request("PUT", "/offers/" + std::to_string(id),
                             "{\"description\":\"updated " + std::to_string(count_) + "\"}")
                    .status == 200);
      } else {
        REQUIRE(offers_.request("DELETE", "/offers/" + std::to_string(alive_.front())).status ==
                204);
        alive_.erase(alive_.begin());
      }
    }
  }

 private:
  Service& offers_;
  std::vector<int64_t> alive_;
  int count_ = 0;
};

std::map<std::string, std::string> feed_of(Service& offers, const std::string& catch_up = "") {
  // An empty CATCH_UP leaves the subscriber's own default.
  return {{"FEED_URL", "http://127.0.0.1:" + std::to_string(offers.port())},
          {"CATCH_UP", catch_up}};
}

bool applied(Sandbox& box, const std::string& subscriber, int64_t seq) {
  return box.redis()
             .command({"EXISTS", "processed:" + subscriber + ":" + message_id_for(seq)})
             ->integer == 1;
}

// Until the subscriber applied event `last` and its queue is empty.
void wait_applied(Sandbox& box, const std::string& subscriber, int64_t last) {
  REQUIRE(wait_until(
      [&] { return applied(box, subscriber, last) && box.queue_depth(subscriber) == 0; }, 60s));
}

double from_feed(Service& s) { return metric(s, "catch_up_events_total{result=\"applied\"}"); }
double from_queue(Service& s) { return metric(s, "deliveries_total{result=\"applied\"}"); }

// Events by name, as the feed has them.
std::map<std::string, int> feed_counts(Service& offers) {
  std::map<std::string, int> by_name;
  std::string target = "/events?start=1";
  for (;;) {
    const auto r = offers.get(target);
    REQUIRE(r.status == 200);
    const auto page = json(r.body);
    for (const auto& e : page.GetArray()) by_name[e["name"].GetString()]++;
    const std::string link = r.header("link");
    if (link.empty()) return by_name;
    target = link.substr(1, link.find('>') - 1);
  }
}

CommandResult catchup_script(Sandbox& box, Service& offers, const std::string& args,
                             const std::string& input = "") {
  return run_command("printf %s " + shell_quote(input) + " | AMQP_URL=" +
                     shell_quote(box.amqp_url()) + " REDIS_URL=" + shell_quote(box.redis_url()) +
                     " FEED_URL=http://127.0.0.1:" + std::to_string(offers.port()) + " " +
                     shell_quote(source_path("scripts/catchup")) + " " + args);
}

// Deletes a subscriber's data, as a lost or wiped database would.
void wipe(Sandbox& box, const std::string& subscriber) {
  for (const auto& pattern : {subscriber + ":*", "processed:" + subscriber + ":*"}) {
    const auto keys = box.redis().command({"KEYS", pattern});
    for (size_t i = 0; i < keys->elements; ++i) {
      box.redis().command({"DEL", std::string(keys->element[i]->str, keys->element[i]->len)});
    }
  }
}

// A one-page feed whose body is not JSON, served to every connection.
class BrokenFeed {
 public:
  BrokenFeed() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = accept(fd_, nullptr, nullptr);
        if (c < 0 || stop_) {
          if (c >= 0) close(c);
          return;
        }
        char buf[4096];
        if (recv(c, buf, sizeof buf, 0) > 0) {
          const std::string reply =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n"
              "Connection: close\r\n\r\n[{\"seq\":1";
          send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        }
        close(c);
      }
    });
  }
  ~BrokenFeed() {
    stop_ = true;
    const int c = connect_loopback(port_);  // wakes the accept
    if (c >= 0) close(c);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE(
    "statistics and loyalty started on an empty store after 500 events report what the "
    "running ones report - notifications stays empty unless CATCH_UP=auto",
    "[catch-up]") {
  Sandbox box;
  auto offers = box.start("special-offers", {{"EVENTS_PAGE_LIMIT", "64"}});
  auto statistics = box.start("statistics");
  auto loyalty = box.start("loyalty");
  Writer(*offers).write(500);
  wait_applied(box, "statistics", 500);
  wait_applied(box, "loyalty", 500);

  // Another vhost and Redis database: no queue has ever held these events, only the feed has them.
  Sandbox fresh;
  auto statistics2 = fresh.start("statistics", feed_of(*offers));
  auto loyalty2 = fresh.start("loyalty", feed_of(*offers));
  CHECK(json(statistics2->get("/stats").body) == json(statistics->get("/stats").body));
  CHECK(json(statistics2->get("/stats").body)["lastSequenceNumber"].GetInt64() == 500);
  CHECK(loyalty2->get("/offers").body == loyalty->get("/offers").body);
  CHECK(loyalty2->get("/offers").body == offers->get("/offers").body);
  CHECK(from_feed(*statistics2) == 500);
  CHECK(from_queue(*statistics2) == 0);
  CHECK(metric(*statistics2, "catch_up_position") == 500);
  CHECK(metric(*statistics2, "catch_up_active") == 0);
  const auto ready = json(statistics2->get("/readyz").body);
  CHECK(ready["catchingUp"].GetBool() == false);
  CHECK(ready["position"].GetInt64() == 500);

  auto notifications = fresh.start("notifications", feed_of(*offers));
  CHECK(notifications->get("/notifications").body == "[]");
  CHECK(metric(*notifications, "catch_up_events_total{result=\"applied\"}") == -1);
  notifications.reset();
  notifications = fresh.start("notifications", feed_of(*offers, "auto"));
  const auto notes = json(notifications->get("/notifications?limit=1000").body);
  CHECK(notes.Size() == 500);
  CHECK(std::string(notes[0]["messageId"].GetString()) == "special-offers-500");

  // Started again, a subscriber whose store holds the history does not read the feed again.
  statistics2->restart();
  REQUIRE(statistics2->wait_ready(20s));
  CHECK(from_feed(*statistics2) == 0);
  CHECK(json(statistics2->get("/stats").body) == json(statistics->get("/stats").body));
}

TEST_CASE("a catch-up while writes keep arriving through the queue applies every event once",
          "[catch-up]") {
  Sandbox box;
  auto offers = box.start("special-offers", {{"EVENTS_PAGE_LIMIT", "20"}});
  Writer writer(*offers);
  writer.write(300);
  // New subscribers: their queues are declared when they start, after most of the history.
  for (const std::string q : {"statistics", "loyalty"}) {
    REQUIRE(box.management("DELETE", "/api/queues/" + url_encode(box.vhost()) + "/" + q).status ==
            204);
  }
  std::thread more([&] { writer.write(300); });
  auto statistics = box.start("statistics", feed_of(*offers), false);
  auto loyalty = box.start("loyalty", feed_of(*offers), false);
  more.join();
  REQUIRE(statistics->wait_ready(60s));
  REQUIRE(loyalty->wait_ready(60s));
  writer.write(50);  // after the catch-up: through the queue alone
  wait_applied(box, "statistics", 650);
  wait_applied(box, "loyalty", 650);

  const auto stats = json(statistics->get("/stats").body);
  int total = 0;
  for (const auto& [name, count] : feed_counts(*offers)) {
    INFO(name);
    CHECK(stats["eventsByType"][name.c_str()].GetInt() == count);
    total += count;
  }
  CHECK(total == 650);
  CHECK(stats["lastSequenceNumber"].GetInt64() == 650);
  CHECK(stats["activeOffers"].GetInt64() ==
        static_cast<int64_t>(json(offers->get("/offers").body).Size()));
  // Every event applied by exactly one of the two paths; the other found it a duplicate.
  CHECK(from_feed(*statistics) + from_queue(*statistics) == 650);
  CHECK(from_queue(*statistics) >= 50);
  CHECK(from_feed(*statistics) >= 300);
  CHECK(loyalty->get("/offers").body == offers->get("/offers").body);
  CHECK(from_feed(*loyalty) + from_queue(*loyalty) +
            metric(*loyalty, "deliveries_total{result=\"stale\"}") ==
        650);
}

TEST_CASE("a feed page that does not parse stops the catch-up and names the page, not the process",
          "[catch-up]") {
  Sandbox box;
  BrokenFeed feed;
  auto statistics = box.start(
      "statistics",
      {{"CATCH_UP", "auto"}, {"FEED_URL", "http://127.0.0.1:" + std::to_string(feed.port())}},
      false);
  REQUIRE(wait_until(
      [&] { return statistics->get("/readyz").body.find("/events?start=1") != std::string::npos; },
      20s));
  const auto r = statistics->get("/readyz");
  CHECK(r.status == 503);
  CHECK_THAT(r.body, Catch::Contains("is not JSON"));
  CHECK(json(r.body)["catchingUp"].GetBool());
  CHECK(statistics->process().running());
  CHECK(statistics->get("/healthz").status == 200);
  CHECK(statistics->terminate() == 0);
}

TEST_CASE("a subscriber waiting for an unreachable feed stays up and stops cleanly on SIGTERM",
          "[catch-up]") {
  Sandbox box;
  auto loyalty = box.start(
      "loyalty",
      {{"CATCH_UP", ""}, {"FEED_URL", "http://127.0.0.1:" + std::to_string(free_tcp_port())}},
      false);
  REQUIRE(wait_until(
      [&] { return loyalty->process().log().find("event feed unreachable") != std::string::npos; },
      20s));
  const auto r = loyalty->get("/readyz");
  CHECK(r.status == 503);
  CHECK(json(r.body)["catchingUp"].GetBool());
  CHECK(json(r.body)["position"].GetInt64() == 0);
  CHECK(metric(*loyalty, "catch_up_active") == 1);
  CHECK(loyalty->terminate() == 0);
}

TEST_CASE("bad CATCH_UP and FEED_URL values stop a subscriber at start-up with exit code 2",
          "[catch-up]") {
  Sandbox box;
  for (const auto& [variable, value] : std::vector<std::pair<std::string, std::string>>{
           {"CATCH_UP", "sometimes"}, {"FEED_URL", "https://x:8080"}, {"FEED_URL", "http://x:0"}}) {
    INFO(variable << "=" << value);
    auto env = box.service_env();
    env[variable] = value;
    Process p(bin_path("loyalty"), env, box.log_path("bad-catch-up"));
    CHECK(p.wait_exit(10s) == 2);
    CHECK_THAT(p.log(), Catch::Contains(variable));
  }
}

TEST_CASE("scripts/catchup rebuilds a stopped loyalty from the feed after its data is wiped",
          "[catch-up]") {
  Sandbox box;
  auto offers = box.start("special-offers", {{"EVENTS_PAGE_LIMIT", "50"}});
  auto loyalty = box.start("loyalty");
  Writer(*offers).write(200);
  wait_applied(box, "loyalty", 200);
  const std::string active = offers->get("/offers").body;
  REQUIRE(loyalty->get("/offers").body == active);

  const auto busy = catchup_script(box, *offers, "loyalty --yes");
  CHECK(busy.code == 1);
  CHECK_THAT(busy.out, Catch::Contains("has 1 consumer"));
  REQUIRE(loyalty->terminate() == 0);
  REQUIRE(
      wait_until([&] { return box.connect_amqp()->queue_consumer_count(1, "loyalty") == 0; }, 10s));

  const auto declined = catchup_script(box, *offers, "loyalty", "no");
  CHECK(declined.code == 1);
  CHECK_THAT(declined.out, Catch::Contains("Type yes to go on"));
  CHECK(box.redis().command({"HLEN", "loyalty:offers"})->integer > 0);
  CHECK(catchup_script(box, *offers, "nobody --yes").code == 2);

  wipe(box, "loyalty");
  const auto rebuilt = catchup_script(box, *offers, "loyalty --yes");
  INFO(rebuilt.out);
  REQUIRE(rebuilt.code == 0);
  CHECK_THAT(rebuilt.out, Catch::Contains("loyalty rebuilt from the feed"));
  CHECK_THAT(rebuilt.out, Catch::Contains("position 200"));

  loyalty = box.start("loyalty", feed_of(*offers));
  CHECK(loyalty->get("/offers").body == active);
  CHECK(from_feed(*loyalty) == 0);  // its store holds the history: no catch-up of its own

  // A late Updated for an offer that was removed: stale, as on the live path.
  int64_t removed_id = 0, removed_seq = 0;
  const auto events = json(offers->get("/events?start=1&end=201").body);
  for (const auto& e : events.GetArray()) {
    if (std::string(e["name"].GetString()) == "SpecialOfferRemoved") {
      removed_id = e["content"]["offer"]["id"].GetInt64();
      removed_seq = e["sequenceNumber"].GetInt64();
    }
  }
  REQUIRE(removed_seq > 1);
  const std::string offer =
      "{\"id\":" + std::to_string(removed_id) + ",\"description\":\"back from the dead\"}";
  auto conn = box.connect_amqp(true);
  publish_confirmed(
      *conn, "", "loyalty", event_properties("late-update-1", "SpecialOfferUpdated"),
      build_event_json(removed_seq - 1, "2026-11-21T10:00:00.000Z", "SpecialOfferUpdated",
                       "{\"oldOffer\":" + offer + ",\"newOffer\":" + offer + "}"));
  REQUIRE(
      wait_until([&] { return metric(*loyalty, "deliveries_total{result=\"stale\"}") == 1; }, 20s));
  CHECK(loyalty->get("/offers").body == active);
}
