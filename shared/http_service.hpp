#pragma once

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/router.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "shared/metrics.hpp"

namespace offers {

inline constexpr size_t kMaxBodyBytes = 64 * 1024;

struct Readiness {
  bool ready = false;
  std::string body;  // JSON object
};

// What a route handler gets: the request, its id (from X-Request-Id, or a new one) and the writer.
struct HttpCall {
  const Pistache::Rest::Request& request;
  Pistache::Http::ResponseWriter& response;
  std::string request_id;

  void json(Pistache::Http::Code code, const std::string& body);
  void error(Pistache::Http::Code code, std::string_view message);
  void no_content();
};

// A Pistache endpoint with the routes every service serves (/healthz, /readyz, /metrics), JSON
// error replies, a body size limit, X-Request-Id propagation and request metrics. Handlers run on
// Pistache's threads; a RedisError becomes 503 and any other exception 500.
class HttpService {
 public:
  using Handler = std::function<void(HttpCall&)>;

  HttpService(int port, int threads, Metrics& metrics);
  ~HttpService();

  void route(Pistache::Http::Method method, const std::string& path, Handler handler);
  void set_readiness(std::function<Readiness()> probe) { readiness_ = std::move(probe); }
  // Binds and serves on background threads; throws when the port cannot be bound.
  void start();
  void stop();
  uint16_t port() const;

 private:
  std::shared_ptr<Pistache::Http::Endpoint> endpoint_;
  Pistache::Rest::Router router_;
  Metrics& metrics_;
  int threads_;
  std::function<Readiness()> readiness_;
  bool running_ = false;
};

std::string new_request_id();

}  // namespace offers
