#include "shared/http/http_service.hpp"

#include <random>

#include "shared/common/json.hpp"
#include "shared/common/log.hpp"
#include "shared/redis/redis_sync.hpp"

namespace offers {

using Pistache::Http::Code;

namespace {

// Pistache 0.0.5 drops raw response headers, so X-Request-Id is a typed header.
class RequestIdHeader : public Pistache::Http::Header::Header {
 public:
  NAME("X-Request-Id")
  RequestIdHeader() = default;
  explicit RequestIdHeader(std::string value) : value_(std::move(value)) {}
  void parse(const std::string& data) override { value_ = data; }
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string value_;
};

}  // namespace

std::string new_request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

namespace {

void send_json(Pistache::Http::ResponseWriter& w, Code code, const std::string& body) {
  w.headers().add<Pistache::Http::Header::ContentType>(MIME(Application, Json));
  w.send(code, body);
}

}  // namespace

void HttpCall::json(Code code, const std::string& body) { send_json(response, code, body); }

void HttpCall::error(Code code, std::string_view message) { json(code, error_body(message)); }

void HttpCall::no_content() { response.send(Code::No_Content); }

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
  guarded([&] { writer_.send(Code::No_Content); });
}

HttpService::HttpService(int port, int threads, Metrics& metrics)
    : endpoint_(std::make_shared<Pistache::Http::Endpoint>(
          Pistache::Address(Pistache::Ipv4::any(), Pistache::Port(static_cast<uint16_t>(port))))),
      metrics_(metrics),
      threads_(threads) {
  route(Pistache::Http::Method::Get, "/healthz",
        [](HttpCall& c) { c.json(Code::Ok, R"({"status":"alive"})"); });
  route(Pistache::Http::Method::Get, "/readyz", [this](HttpCall& c) {
    const Readiness r = readiness_ ? readiness_() : Readiness{true, "{}"};
    c.json(r.ready ? Code::Ok : Code::Service_Unavailable, r.body);
  });
  route(Pistache::Http::Method::Get, "/metrics", [this](HttpCall& c) {
    c.response.headers().add<Pistache::Http::Header::ContentType>(MIME(Text, Plain));
    c.response.send(Code::Ok, metrics_.render());
  });
}

HttpService::~HttpService() { stop(); }

void HttpService::route(Pistache::Http::Method method, const std::string& path, Handler handler) {
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
                       if (req.body().size() > kMaxBodyBytes) {
                         call.error(Code::Request_Entity_Too_Large, "body is larger than 64 KiB");
                       } else {
                         handler(call);
                       }
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

void HttpService::start() {
  auto opts = Pistache::Http::Endpoint::options()
                  .threads(threads_)
                  .flags(Pistache::Tcp::Options::ReuseAddr)
                  .maxRequestSize(kMaxBodyBytes * 4);
  endpoint_->init(opts);
  endpoint_->setHandler(router_.handler());
  endpoint_->serveThreaded();
  running_ = true;
}

void HttpService::stop() {
  if (running_) {
    running_ = false;
    endpoint_->shutdown();
  }
}

uint16_t HttpService::port() const { return static_cast<uint16_t>(endpoint_->getPort()); }

}  // namespace offers
