#pragma once

#include <pistache/http.h>
#include <pistache/listener.h>
#include <pistache/router.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/common/metrics.hpp"
#include "shared/http/http_edge.hpp"

namespace offers {

struct Readiness {
  bool ready = false;
  std::string body;  // JSON object
};

// A response sent after the handler returned, from any thread (see HttpCall::defer). Sending never
// throws: a client that went away is logged.
class DeferredReply {
 public:
  DeferredReply(Pistache::Http::ResponseWriter&& writer, std::string request_id)
      : writer_(std::move(writer)), request_id_(std::move(request_id)) {}

  Pistache::Http::ResponseWriter& writer() { return writer_; }
  const std::string& request_id() const { return request_id_; }
  void json(Pistache::Http::Code code, const std::string& body);
  void error(Pistache::Http::Code code, std::string_view message);
  void no_content();

 private:
  // Runs send, logging instead of throwing when the client is gone.
  template <typename Send>
  void guarded(Send&& send);

  Pistache::Http::ResponseWriter writer_;
  std::string request_id_;
};

// What a route handler gets: the request, its id (from X-Request-Id, or a new one) and the writer.
struct HttpCall {
  const Pistache::Rest::Request& request;
  Pistache::Http::ResponseWriter& response;
  std::string request_id;
  bool deferred = false;

  void json(Pistache::Http::Code code, const std::string& body);
  void error(Pistache::Http::Code code, std::string_view message);
  void no_content();
  // Takes the writer away from the handler, to answer once work done elsewhere is finished; the
  // handler must not answer through this call afterwards.
  std::shared_ptr<DeferredReply> defer();
};

// A Pistache listener with the routes every service serves (/healthz, /readyz, /metrics), the
// HTTP edge of the contract (see EdgeTransport), JSON error replies (404 and 405 included),
// X-Request-Id propagation and request metrics. Handlers run on Pistache's threads; a RedisError
// becomes 503 and any other exception 500.
class HttpService {
 public:
  using Handler = std::function<void(HttpCall&)>;

  HttpService(int port, int threads, const HttpEdgeSettings& edge, Metrics& metrics);
  ~HttpService();

  void route(Pistache::Http::Method method, const std::string& path, Handler handler);
  void set_readiness(std::function<Readiness()> probe) { readiness_ = std::move(probe); }
  // Binds and serves on background threads; throws when the port cannot be bound.
  void start();
  void stop();
  uint16_t port() const;

 private:
  // 405 (with Allow) when the path is served under other methods, else 404.
  void not_routed(const Pistache::Rest::Request& request, Pistache::Http::ResponseWriter response);

  Pistache::Rest::Router router_;
  std::unique_ptr<Pistache::Tcp::Listener> listener_;
  Metrics& metrics_;
  int threads_;
  HttpEdgeSettings edge_;
  std::vector<std::pair<Pistache::Http::Method, std::string>> routes_;
  std::function<Readiness()> readiness_;
  bool running_ = false;
};

}  // namespace offers
