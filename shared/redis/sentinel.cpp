#include "shared/redis/sentinel.hpp"

#include <memory>
#include <string_view>

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

}  // namespace offers
