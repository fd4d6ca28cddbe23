#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "shared/common/settings.hpp"

namespace offers {

// The server could not be reached, or its answer was cut short or is not HTTP.
class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& name) const;
};

// A blocking HTTP/1.1 client for GET requests to one server, keeping its connection alive between
// requests. It belongs to one thread. Every wait is bounded by the timeout and checks
// `cancelled` a few times a second, so an owner that is stopping is never held up for long.
class HttpClient {
 public:
  HttpClient(HttpEndpoint endpoint, std::chrono::milliseconds timeout,
             std::function<bool()> cancelled = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // target: path and query, e.g. /events?start=1. Throws HttpError.
  HttpReply get(const std::string& target);

 private:
  class Socket;
  void connect();
  HttpReply exchange(const std::string& target);
  void send_all(const std::string& data);
  // Appends what the socket has to buffer_; false when the peer closed the connection.
  bool receive();
  HttpReply read_reply();
  std::string read_chunked();

  HttpEndpoint endpoint_;
  std::chrono::milliseconds timeout_;
  std::function<bool()> cancelled_;
  std::unique_ptr<Socket> socket_;
  std::string buffer_;  // received and not yet consumed
  std::chrono::steady_clock::time_point deadline_;
};

// The target of a Link header's entry with the given rel, e.g. "/events?start=11&end=21" for
// `</events?start=11&end=21>; rel="next"`; nullopt when there is none.
std::optional<std::string> link_target(const std::string& link_header, const std::string& rel);

}  // namespace offers
