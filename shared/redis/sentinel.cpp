#include "shared/redis/sentinel.hpp"

#include <hiredis/adapters/libuv.h>

#include <memory>
#include <sstream>
#include <string_view>

#include "shared/common/log.hpp"

namespace offers {
namespace {

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(void* r) const { freeReplyObject(r); }
};

timeval timeval_of(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string_view text_of(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
                          r->type == REDIS_REPLY_ERROR)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

}  // namespace

std::optional<HostPort> ask_sentinels(const RedisEndpoint& endpoint,
                                      std::chrono::milliseconds timeout, std::string& error) {
  error = "no sentinel";
  for (const auto& s : endpoint.sentinels) {
    const std::string where = s.host + ":" + std::to_string(s.port);
    std::unique_ptr<redisContext, ContextFree> ctx(
        redisConnectWithTimeout(s.host.c_str(), s.port, timeval_of(timeout)));
    if (!ctx || ctx->err) {
      error = "sentinel " + where + ": " + (ctx ? ctx->errstr : "out of memory");
      continue;
    }
    redisSetTimeout(ctx.get(), timeval_of(timeout));
    std::unique_ptr<redisReply, ReplyFree> r(static_cast<redisReply*>(redisCommand(
        ctx.get(), "SENTINEL get-master-addr-by-name %s", endpoint.master_name.c_str())));
    if (!r) {
      error = "sentinel " + where + ": " + ctx->errstr;
      continue;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING) {
      error = "sentinel " + where + " does not know master " + endpoint.master_name;
      continue;
    }
    try {
      const std::string host(r->element[0]->str, r->element[0]->len);
      const std::string port(r->element[1]->str, r->element[1]->len);
      return parse_host_port("sentinel reply", host + ":" + port);
    } catch (const ConfigError& e) {
      error = "sentinel " + where + ": " + e.what();
    }
  }
  return std::nullopt;
}

std::optional<HostPort> redis_address(const RedisEndpoint& endpoint,
                                      std::chrono::milliseconds timeout, std::string& error) {
  if (endpoint.sentinels.empty()) return HostPort{endpoint.host, endpoint.port};
  return ask_sentinels(endpoint, timeout, error);
}

bool role_is_master(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
         text_of(r->element[0]) == "master";
}

bool is_readonly_error(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_ERROR && is_readonly_error(std::string(text_of(r)));
}

bool is_readonly_error(const std::string& message) {
  return message.rfind("READONLY", 0) == 0 || message.find(": READONLY") != std::string::npos;
}

SentinelWatch::SentinelWatch(uv_loop_t* loop, RedisEndpoint endpoint,
                             std::function<void(const std::string&)> on_switch)
    : loop_(loop), endpoint_(std::move(endpoint)), on_switch_(std::move(on_switch)), timer_(loop) {}

SentinelWatch::~SentinelWatch() { stop(); }

void SentinelWatch::start() {
  stopped_ = false;
  connect();
}

void SentinelWatch::stop() {
  stopped_ = true;
  timer_.stop();
  drop();
}

void SentinelWatch::drop() {
  if (ctx_ == nullptr) return;
  redisAsyncContext* ctx = ctx_;
  ctx_ = nullptr;
  ctx->data = nullptr;
  redisAsyncFree(ctx);
}

void SentinelWatch::retry_later() {
  if (!stopped_) timer_.start(1000, 0, [this] { connect(); });
}

void SentinelWatch::connect() {
  if (stopped_ || ctx_ != nullptr || endpoint_.sentinels.empty()) return;
  const HostPort& s = endpoint_.sentinels[next_++ % endpoint_.sentinels.size()];
  redisAsyncContext* ctx = redisAsyncConnect(s.host.c_str(), s.port);
  if (ctx == nullptr || ctx->err) {
    if (ctx != nullptr) redisAsyncFree(ctx);
    retry_later();
    return;
  }
  ctx->data = this;
  redisLibuvAttach(ctx, loop_);
  redisAsyncSetConnectCallback(ctx, &SentinelWatch::on_connect);
  redisAsyncSetDisconnectCallback(ctx, &SentinelWatch::on_disconnect);
  ctx_ = ctx;
  subscribed_ = false;
  redisAsyncCommand(ctx, &SentinelWatch::on_message, this, "SUBSCRIBE +switch-master");
  // A sentinel that does not confirm the subscription in time (gone, stalled) is left for the
  // next one.
  timer_.start(2000, 0, [this] {
    if (subscribed_) return;
    drop();
    connect();
  });
}

void SentinelWatch::on_connect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<SentinelWatch*>(ctx->data);
  if (self == nullptr || status == REDIS_OK) return;
  self->ctx_ = nullptr;  // hiredis frees the context after a failed connect
  self->timer_.stop();
  self->retry_later();
}

void SentinelWatch::on_disconnect(const redisAsyncContext* ctx, int) {
  auto* self = static_cast<SentinelWatch*>(ctx->data);
  if (self == nullptr) return;
  self->ctx_ = nullptr;
  self->timer_.stop();
  self->retry_later();
}

void SentinelWatch::on_message(redisAsyncContext* ctx, void* reply, void*) {
  auto* self = static_cast<SentinelWatch*>(ctx->data);
  const auto* r = static_cast<const redisReply*>(reply);
  if (self == nullptr || r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return;
  const std::string_view kind = text_of(r->element[0]);
  if (kind == "subscribe") {
    self->subscribed_ = true;
    return;
  }
  if (kind != "message") return;
  // "<master name> <old ip> <old port> <new ip> <new port>"
  std::istringstream words{std::string(text_of(r->element[2]))};
  std::string name, old_ip, old_port, ip, port;
  if (!(words >> name >> old_ip >> old_port >> ip >> port) || name != self->endpoint_.master_name) {
    return;
  }
  log_info("sentinel reports a new master", {{"master", name}, {"address", ip + ":" + port}});
  try {
    self->on_switch_(ip + ":" + port);
  } catch (const std::exception& e) {
    log_error("unhandled exception in a +switch-master callback", {{"error", e.what()}});
  }
}

}  // namespace offers
