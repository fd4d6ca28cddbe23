#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "shared/common/json.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/json_doc.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

rapidjson::Document definitions(const std::string& file = "definitions.json") {
  std::ifstream in(source_path("rabbitmq/" + file));
  std::stringstream ss;
  ss << in.rdbuf();
  return json(ss.str());
}

// name -> "durable|type|arguments as JSON", one entry per queue or exchange.
std::map<std::string, std::string> describe(const rapidjson::Value& list, bool queues) {
  std::map<std::string, std::string> out;
  for (const auto& item : list.GetArray()) {
    const std::string name = item["name"].GetString();
    if (!queues && (name.empty() || name.rfind("amq.", 0) == 0)) continue;
    std::map<std::string, std::string> args;
    for (const auto& a : item["arguments"].GetObject()) args[a.name.GetString()] = to_json(a.value);
    std::string d = std::string(item["durable"].GetBool() ? "durable" : "transient");
    if (!queues) d += std::string("|") + item["type"].GetString();
    for (const auto& [k, v] : args) d += "|" + k + "=" + v;
    out[name] = d;
  }
  return out;
}

std::set<std::string> bindings(const rapidjson::Value& list) {
  std::set<std::string> out;
  for (const auto& b : list.GetArray()) {
    const std::string source = b["source"].GetString();
    if (source.empty()) continue;  // the default exchange's implicit bindings
    out.insert(source + " -> " + b["destination"].GetString() + " [" +
               b["routing_key"].GetString() + "]");
  }
  return out;
}

void check_vhost_matches_definitions(Sandbox& box, const std::string& vhost,
                                     const std::string& file = "definitions.json") {
  const auto defs = definitions(file);
  const auto queues = json(box.management("GET", "/api/queues/" + url_encode(vhost)).body);
  const auto exchanges = json(box.management("GET", "/api/exchanges/" + url_encode(vhost)).body);
  const auto binds = json(box.management("GET", "/api/bindings/" + url_encode(vhost)).body);
  CHECK(describe(queues, true) == describe(defs["queues"], true));
  CHECK(describe(exchanges, false) == describe(defs["exchanges"], false));
  CHECK(bindings(binds) == bindings(defs["bindings"]));
  CHECK(defs["queues"].Size() == 9);
  CHECK(defs["exchanges"].Size() == 2);
}

}  // namespace

TEST_CASE("the topology declared by the services matches definitions.json argument for argument",
          "[topology]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  REQUIRE(wait_until(
      [&] { return svc->get("/readyz").body.find("\"connected\"") != std::string::npos; }, 20s));
  check_vhost_matches_definitions(box, box.vhost());
}

TEST_CASE("with QUEUE_TYPE=quorum the services declare what definitions-quorum.json says",
          "[topology][quorum]") {
  Sandbox box;
  auto svc = box.start("special-offers", {{"QUEUE_TYPE", "quorum"}});
  REQUIRE(wait_until(
      [&] { return svc->get("/readyz").body.find("\"connected\"") != std::string::npos; }, 20s));
  check_vhost_matches_definitions(box, box.vhost(), "definitions-quorum.json");
}

TEST_CASE("the broker loaded definitions.json at boot", "[topology]") {
  Sandbox box;
  check_vhost_matches_definitions(box, "/");
}

TEST_CASE("a queue that exists with other arguments is a start-up error naming queue and argument",
          "[topology]") {
  Sandbox box;
  const auto r =
      box.management("PUT", "/api/queues/" + box.vhost() + "/notifications",
                     R"({"durable":true,"arguments":{"x-dead-letter-exchange":"elsewhere"}})");
  REQUIRE((r.status == 201 || r.status == 204));
  Process p(bin_path("special-offers"), box.service_env(), box.log_path("mismatch"));
  CHECK(p.wait_exit(20s) == 2);
  const std::string log = p.log();
  CHECK_THAT(log, Catch::Contains("notifications"));
  CHECK_THAT(log, Catch::Contains("x-dead-letter-exchange"));
}
