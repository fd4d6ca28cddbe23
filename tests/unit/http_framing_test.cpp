#include "shared/http/http_framing.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace offers;
using State = RequestFrame::State;

namespace {
RequestFrame frame(const std::string& bytes) { return frame_request(bytes, HttpLimits{}); }
}  // namespace

TEST_CASE("a complete request is framed with its body", "[http]") {
  const std::string head = "POST /offers HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n";
  auto f = frame(head + "ab");
  CHECK(f.state == State::NeedMore);
  CHECK(f.head_complete);
  f = frame(head + "abcdGET");
  REQUIRE(f.state == State::Complete);
  CHECK(f.head_bytes == head.size());
  CHECK(f.body_bytes == 4);
  CHECK(f.keep_alive);
  CHECK_FALSE(f.http10);
}

TEST_CASE("persistence follows the version and the Connection header", "[http]") {
  CHECK(frame("GET / HTTP/1.1\r\n\r\n").keep_alive);
  CHECK_FALSE(frame("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
  CHECK_FALSE(frame("GET / HTTP/1.1\r\nConnection: TE, Close\r\n\r\n").keep_alive);
  CHECK_FALSE(frame("GET / HTTP/1.0\r\n\r\n").keep_alive);
  CHECK(frame("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
}

TEST_CASE("an incomplete request waits for more bytes", "[http]") {
  for (const std::string partial : {"", "G", "GET", "GET /offers", "GET /offers HTTP/1.1\r",
                                    "GET / HTTP/1.1\r\nHost: x", "GET / HTTP/1.1\r\nHost: x\r\n"}) {
    INFO(partial);
    const auto f = frame(partial);
    CHECK(f.state == State::NeedMore);
    CHECK_FALSE(f.head_complete);
  }
}

TEST_CASE("malformed, oversized and unsupported requests are rejected with a status", "[http]") {
  const std::pair<std::string, int> cases[] = {
      {"GET /offers\r\n\r\n", 400},
      {"hello there\r\n\r\n", 400},
      {"\x16\x03\x01\x02\x00", 400},
      {" GET / HTTP/1.1\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET offers HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\n\n", 400},
      {"GET / HTTP/1.1 extra\r\n\r\n", 400},
      {"GET / HTTQ/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nBad name: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX: a\x01"
       "b\r\n\r\n",
       400},
      {"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
      {"GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'), 431},
      {"GET /" + std::string(20000, 'a'), 431},
      {"VERYLONGMETHODNAMEHERE / HTTP/1.1\r\n\r\n", 400},
  };
  for (const auto& [bytes, status] : cases) {
    INFO(bytes.substr(0, 80));
    const auto f = frame(bytes);
    CHECK(f.state == State::Reject);
    CHECK(f.status == status);
    CHECK_FALSE(f.error.empty());
  }
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-N: 1\r\n";
  const auto f = frame(many + "\r\n");
  CHECK(f.state == State::Reject);
  CHECK(f.status == 431);
}
