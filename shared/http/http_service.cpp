#include "shared/http/http_service.hpp"

#include <sys/resource.h>

#include <random>

#include "shared/common/json.hpp"
#include "shared/common/log.hpp"
#include "shared/redis/redis_sync.hpp"

namespace offers {

using Pistache::Http::Code;

namespace {

void send_json(Pistache::Http::ResponseWriter& w, Code code, const std::string& body) {
  w.headers().add<Pistache::Http::Header::ContentType>(MIME(Application, Json));
  send_reply(w, code, body);
}

// Whether a request path fits a route pattern, ":name" standing for any one segment.
bool path_matches(std::string_view pattern, std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  for (;;) {
    if (pattern.empty() || path.empty()) return pattern.empty() && path.empty();
    pattern.remove_prefix(1);  // '/'
    path.remove_prefix(1);
    const auto p_end = std::min(pattern.find('/'), pattern.size());
    const auto s_end = std::min(path.find('/'), path.size());
    const auto p = pattern.substr(0, p_end), s = path.substr(0, s_end);
    if (!(p.size() > 1 && p.front() == ':' && !s.empty()) && p != s) return false;
    pattern.remove_prefix(p_end);
    path.remove_prefix(s_end);
  }
}

}  // namespace

void HttpCall::json(Code code, const std::string& body) { send_json(response, code, body); }

void HttpCall::error(Code code, std::string_view message) { json(code, error_body(message)); }

void HttpCall::no_content() { send_reply(response, Code::No_Content, ""); }

std::shared_ptr<DeferredReply> HttpCall::defer() {
  deferred = true;
  return std::make_shared<DeferredReply>(std::move(response), request_id);
}

template <typename Send>
void DeferredReply::guarded(Send&& send) {
  try {
    send();
  } catch (const std::exception& e) {
    log_info("response not sent", {{"error", e.what()}, {"request_id", request_id_}});
  }
}

void DeferredReply::json(Code code, const std::string& body) {
  guarded([&] { send_json(writer_, code, body); });
}

void DeferredReply::error(Code code, std::string_view message) { json(code, error_body(message)); }

void DeferredReply::no_content() {
  guarded([&] { send_reply(writer_, Code::No_Content, ""); });
}

HttpService::HttpService(int port, int threads, const HttpEdgeSettings& edge, Metrics& metrics)
    : listener_(std::make_unique<Pistache::Tcp::Listener>(
          Pistache::Address(Pistache::Ipv4::any(), Pistache::Port(static_cast<uint16_t>(port))))),
      metrics_(metrics),
      threads_(threads),
      edge_(edge) {
  router_.addCustomHandler(
      [this](const Pistache::Rest::Request& req, Pistache::Http::ResponseWriter resp) {
        not_routed(req, std::move(resp));
        return Pistache::Rest::Route::Result::Ok;
      });
  route(Pistache::Http::Method::Get, "/healthz",
        [](HttpCall& c) { c.json(Code::Ok, R"({"status":"alive"})"); });
  route(Pistache::Http::Method::Get, "/readyz", [this](HttpCall& c) {
    const Readiness r = readiness_ ? readiness_() : Readiness{true, "{}"};
    c.json(r.ready ? Code::Ok : Code::Service_Unavailable, r.body);
  });
  route(Pistache::Http::Method::Get, "/metrics", [this](HttpCall& c) {
    c.response.headers().add<Pistache::Http::Header::ContentType>(MIME(Text, Plain));
    send_reply(c.response, Code::Ok, metrics_.render());
  });
}

HttpService::~HttpService() { stop(); }

void HttpService::not_routed(const Pistache::Rest::Request& request,
                             Pistache::Http::ResponseWriter response) {
  std::vector<Pistache::Http::Method> allowed;
  for (const auto& [method, pattern] : routes_)
    if (path_matches(pattern, request.resource())) allowed.push_back(method);
  try {
    if (allowed.empty()) {
      send_json(response, Code::Not_Found, error_body("no such route"));
    } else {
      response.headers().add<Pistache::Http::Header::Allow>(allowed);
      send_json(response, Code::Method_Not_Allowed, error_body("method not allowed"));
    }
  } catch (const std::exception& e) {
    log_info("response not sent", {{"error", e.what()}});
  }
}

void HttpService::route(Pistache::Http::Method method, const std::string& path, Handler handler) {
  routes_.emplace_back(method, path);
  Counter& requests =
      metrics_.counter("http_requests_total", "HTTP requests handled", "route=\"" + path + "\"");
  router_.addRoute(method, path,
                   [handler = std::move(handler), &requests](const Pistache::Rest::Request& req,
                                                             Pistache::Http::ResponseWriter resp) {
                     requests.inc();
                     std::string id;
                     if (auto raw = req.headers().tryGetRaw("X-Request-Id");
                         raw && !raw->value().empty() && raw->value().size() <= 200) {
                       id = raw->value();
                     } else {
                       id = new_request_id();
                     }
                     resp.headers().add(std::make_shared<RequestIdHeader>(id));
                     HttpCall call{req, resp, id};
                     try {
                       handler(call);
                     } catch (const RedisError& e) {
                       log_warn("storage unavailable", {{"error", e.what()}, {"request_id", id}});
                       if (!call.deferred)
                         call.error(Code::Service_Unavailable, "storage unavailable");
                     } catch (const std::exception& e) {
                       log_error("request failed", {{"error", e.what()}, {"request_id", id}});
                       if (!call.deferred)
                         call.error(Code::Internal_Server_Error, "internal error");
                     }
                     return Pistache::Rest::Route::Result::Ok;
                   });
}

namespace {

// Every connection holds a descriptor: take all the descriptors the system lets this process
// have, not the soft limit a shell happened to set.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

void HttpService::start() {
  raise_descriptor_limit();
  auto handler = std::make_shared<EdgeHandler>(&router_);
  listener_->init(static_cast<size_t>(threads_),
                  Pistache::Flags<Pistache::Tcp::Options>(Pistache::Tcp::Options::ReuseAddr));
  listener_->setHandler(handler);
  listener_->setTransportFactory(
      [handler, edge = edge_] { return std::make_shared<EdgeTransport>(handler, edge); });
  listener_->bind();
  listener_->runThreaded();
  running_ = true;
}

void HttpService::stop() {
  if (running_) {
    running_ = false;
    listener_->shutdown();
  }
}

uint16_t HttpService::port() const { return static_cast<uint16_t>(listener_->getPort()); }

}  // namespace offers
