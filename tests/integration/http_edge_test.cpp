#include <rapidjson/document.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "tests/support/harness.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

const std::string kGet = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

// An error reply of the contract: {"error": "<text>"} and no internal exception text.
void check_error_body(const HttpResponse& r) {
  INFO(r.body);
  CHECK(r.header("Content-Type") == "application/json");
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  REQUIRE(doc.HasMember("error"));
  REQUIRE(doc["error"].IsString());
  for (const char* internal : {"stoull", "stoul", "basic_string", "_M_", "std::", "what()"})
    CHECK(r.body.find(internal) == std::string::npos);
}

bool says_close(const HttpResponse& r) {
  std::string v = r.header("Connection");
  for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return v == "close";
}

}  // namespace

TEST_CASE("HTTP/1.1 connections are kept - Connection: close is honoured and followed by the close",
          "[http]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  RawHttpConnection conn(svc->port());
  REQUIRE(conn.connected());
  for (int i = 0; i < 3; ++i) {
    REQUIRE(conn.send(kGet));
    const auto r = conn.response();
    REQUIRE(r.status == 200);
    CHECK_FALSE(says_close(r));
  }
  // A large reply (the OpenAPI document) and the next request after it on the same connection.
  REQUIRE(conn.send("GET /openapi.yaml HTTP/1.1\r\nHost: t\r\n\r\n"));
  CHECK(conn.response().status == 200);
  REQUIRE(conn.send(kGet));
  CHECK(conn.response().status == 200);
  REQUIRE(
      conn.send("POST /offers HTTP/1.1\r\nHost: t\r\nContent-Length: 22\r\n\r\n"
                R"({"description":"tea"})"
                "\n"));
  CHECK(conn.response().status == 201);
  REQUIRE(conn.send("GET /offers/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const auto last = conn.response();
  CHECK(last.status == 200);
  CHECK(says_close(last));
  CHECK(conn.closed_by_server());

  // A write is answered from the service loop's thread: the close follows there too.
  RawHttpConnection writer(svc->port());
  REQUIRE(writer.send("DELETE /offers/1 HTTP/1.1\r\nConnection: close\r\n\r\n"));
  const auto removed = writer.response();
  CHECK(removed.status == 204);
  CHECK(says_close(removed));
  CHECK(writer.closed_by_server());
}

TEST_CASE("HTTP/1.0 connections are kept only with Connection: keep-alive", "[http]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  RawHttpConnection plain(svc->port());
  REQUIRE(plain.send("GET /healthz HTTP/1.0\r\n\r\n"));
  const auto r = plain.response();
  CHECK(r.status == 200);
  CHECK(says_close(r));
  CHECK(plain.closed_by_server());

  RawHttpConnection kept(svc->port());
  for (int i = 0; i < 2; ++i) {
    REQUIRE(kept.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const auto k = kept.response();
    CHECK(k.status == 200);
    CHECK_FALSE(says_close(k));
  }
}

TEST_CASE("requests sent back to back on one connection are answered in order", "[http]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  RawHttpConnection conn(svc->port());
  REQUIRE(
      conn.send("POST /offers HTTP/1.1\r\nContent-Length: 19\r\n\r\n{\"description\":\"a\"}"
                "GET /offers/1 HTTP/1.1\r\n\r\n" +
                kGet));
  const auto created = conn.response();
  CHECK(created.status == 201);
  const auto offer = conn.response();
  CHECK(offer.status == 200);
  CHECK(offer.body == R"({"id":1,"description":"a"})");
  CHECK(conn.response().body == R"({"status":"alive"})");
}

TEST_CASE("malformed and oversized requests get a JSON 4xx and the connection is closed",
          "[http]") {
  Sandbox box;
  auto svc = box.start("special-offers");
  std::string many_headers = "GET /healthz HTTP/1.1\r\n";
  for (int i = 0; i < 200; ++i) many_headers += "X-Many: " + std::to_string(i) + "\r\n";
  const std::pair<std::string, int> cases[] = {
      {"GET /offers\r\n\r\n", 400},
      {"this is not HTTP at all\r\n\r\n", 400},
      {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11), 400},
      {"GET /offers HTTP/1.1\r\nno colon here\r\n\r\n", 400},
      {"POST /offers HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400},
      {"POST /offers HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"POST /offers HTTP/1.1\r\nContent-Length: twelve\r\n\r\n", 400},
      {"GET /healthz HTTP/1.1\r\nHost: a:b:c\r\n\r\n", 400},
      {"POST /offers HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n", 413},
      {"POST /offers HTTP/1.1\r\nContent-Length: 71680\r\n\r\n{\"description\":\"" +
           std::string(71680 - 18, 'x') + "\"}",
       413},
      {many_headers + "\r\n", 431},
      {"GET /healthz HTTP/1.1\r\nX-Big: " + std::string(32 * 1024, 'b') + "\r\n\r\n", 431},
  };
  for (const auto& [bytes, status] : cases) {
    INFO(bytes.substr(0, 60));
    RawHttpConnection conn(svc->port());
    REQUIRE(conn.send(bytes));
    const auto r = conn.response();
    CHECK(r.status == status);
    CHECK(says_close(r));
    CHECK_FALSE(r.header("X-Request-Id").empty());
    check_error_body(r);
    CHECK(conn.closed_by_server());
  }
  // Unknown routes and methods answer JSON too, and keep the connection.
  RawHttpConnection conn(svc->port());
  REQUIRE(conn.send("GET /nowhere HTTP/1.1\r\n\r\n"));
  const auto missing = conn.response();
  CHECK(missing.status == 404);
  check_error_body(missing);
  REQUIRE(conn.send("PATCH /offers/1 HTTP/1.1\r\n\r\n"));
  const auto wrong = conn.response();
  CHECK(wrong.status == 405);
  CHECK(wrong.header("Allow").find("PUT") != std::string::npos);
  check_error_body(wrong);
  CHECK(svc->get("/healthz").status == 200);
}

TEST_CASE("a request that does not arrive in time gets 408 and a close - idle connections close",
          "[http]") {
  Sandbox box;
  auto svc = box.start("special-offers",
                       {{"HTTP_REQUEST_TIMEOUT", "300ms"}, {"HTTP_IDLE_TIMEOUT", "600ms"}});
  SECTION("headers that stop half-way") {
    RawHttpConnection conn(svc->port());
    REQUIRE(conn.send("GET /healthz HTTP/1.1\r\nHost: t\r\n"));
    const auto r = conn.response();
    CHECK(r.status == 408);
    check_error_body(r);
    CHECK(conn.closed_by_server());
  }
  SECTION("a body shorter than its Content-Length") {
    RawHttpConnection conn(svc->port());
    REQUIRE(conn.send("POST /offers HTTP/1.1\r\nContent-Length: 30\r\n\r\n{\"descr"));
    const auto r = conn.response();
    CHECK(r.status == 408);
    check_error_body(r);
    CHECK(conn.closed_by_server());
    CHECK(svc->get("/offers").body == "[]");
  }
  SECTION("a kept connection with no next request") {
    RawHttpConnection conn(svc->port());
    REQUIRE(conn.send(kGet));
    CHECK(conn.response().status == 200);
    CHECK(conn.closed_by_server());
  }
  SECTION("a connection that never sends anything") {
    RawHttpConnection conn(svc->port());
    REQUIRE(conn.connected());
    CHECK(conn.closed_by_server());
  }
}

TEST_CASE("2,000 idle connections do not stop a normal request from being served", "[http]") {
  constexpr int kIdle = 2000;
  // The service inherits this process's limit; both ends of every connection count here.
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur < 2 * kIdle + 200 && limit.rlim_max >= 2 * kIdle + 200) {
    limit.rlim_cur = 2 * kIdle + 200;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
  }
  REQUIRE(limit.rlim_cur >= kIdle + 200);
  Sandbox box;
  auto svc = box.start("special-offers");
  std::vector<std::unique_ptr<RawHttpConnection>> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<RawHttpConnection>(svc->port()));
    REQUIRE(idle.back()->connected());
    // Every tenth one starts a request and stops, as a slow client would.
    if (i % 10 == 0) REQUIRE(idle.back()->send("GET /healthz HTTP/1.1\r\n"));
  }
  RawHttpConnection fresh(svc->port());
  REQUIRE(fresh.send("POST /offers HTTP/1.1\r\nContent-Length: 19\r\n\r\n{\"description\":\"b\"}"));
  const auto r = fresh.response(20s);
  CHECK(r.status == 201);
  CHECK(svc->get("/offers/1").status == 200);
  CHECK(metric(*svc, "http_requests_total{route=\"/offers\"}") >= 1);
}

TEST_CASE("an HTTP timeout that does not parse stops a service with exit code 2 naming it",
          "[http]") {
  Sandbox box;
  for (const char* variable : {"HTTP_IDLE_TIMEOUT", "HTTP_REQUEST_TIMEOUT"}) {
    INFO(variable);
    auto env = box.service_env();
    env[variable] = "soon";
    Process p(bin_path("statistics"), env, box.log_path("bad-http-timeout"));
    CHECK(p.wait_exit(10s) == 2);
    CHECK_THAT(p.log(), Catch::Contains(variable));
  }
}
