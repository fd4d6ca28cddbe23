#include "shared/redis/redis_async.hpp"

#include <hiredis/adapters/libuv.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "shared/common/log.hpp"
#include "shared/redis/sentinel.hpp"

namespace offers {
namespace {
// How often a connection attempt is checked for a refusal.
constexpr uint64_t kConnectCheckMs = 20;
}  // namespace

struct AsyncRedis::Request {
  AsyncRedis* owner;
  Callback cb;
};

AsyncRedis::AsyncRedis(uv_loop_t* loop, RedisEndpoint endpoint, StateCallback on_state)
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      on_state_(std::move(on_state)),
      reconnect_(loop),
      liveness_(loop),
      connect_watch_(loop) {
  if (!endpoint_.sentinels.empty()) {
    watch_ = std::make_unique<SentinelWatch>(loop, endpoint_, [this](const std::string& master) {
      // A failover: leave the old master now rather than at its first failing command.
      if (ctx_ != nullptr && master != address_) {
        drop("sentinel: +switch-master to " + master);
      } else {
        reconnect_now();
      }
    });
  }
}

AsyncRedis::~AsyncRedis() { stop(); }

void AsyncRedis::start() {
  stopped_ = false;
  if (watch_) watch_->start();
  connect();
  liveness_.start(1000, 1000, [this] { check_liveness(); });
}

void AsyncRedis::stop() {
  stopped_ = true;
  if (watch_) watch_->stop();
  reconnect_.stop();
  liveness_.stop();
  connect_watch_.stop();
  if (ctx_ != nullptr) {
    redisAsyncContext* ctx = ctx_;
    ctx_ = nullptr;
    ready_ = false;
    ctx->data = nullptr;
    redisAsyncFree(ctx);  // answers pending callbacks with nullptr
  }
}

void AsyncRedis::reconnect_now() {
  if (stopped_ || ctx_ != nullptr) return;
  reconnect_.stop();
  connect();
}

void AsyncRedis::connect() {
  if (stopped_ || ctx_ != nullptr) return;
  // The sentinels are asked with blocking calls, bounded by kSentinelTimeout each: this happens
  // only while the connection is down, when the loop has nothing for Redis to do anyway.
  std::string error;
  const auto address = redis_address(endpoint_, kSentinelTimeout, error);
  if (!address) {
    log_warn("redis master unknown", {{"redis", endpoint_.redacted()}, {"error", error}});
    schedule_reconnect();
    return;
  }
  address_ = address->host + ":" + std::to_string(address->port);
  redisAsyncContext* ctx = redisAsyncConnect(address->host.c_str(), address->port);
  if (ctx == nullptr || ctx->err) {
    log_warn("redis connect failed",
             {{"redis", endpoint_.redacted()}, {"error", ctx ? ctx->errstr : "out of memory"}});
    if (ctx) redisAsyncFree(ctx);
    schedule_reconnect();
    return;
  }
  ctx->data = this;
  redisLibuvAttach(ctx, loop_);
  redisAsyncSetConnectCallback(ctx, &AsyncRedis::on_connect);
  redisAsyncSetDisconnectCallback(ctx, &AsyncRedis::on_disconnect);
  ctx_ = ctx;
  last_reply_ = std::chrono::steady_clock::now();
  connect_watch_.start(kConnectCheckMs, kConnectCheckMs, [this] { check_connecting(); });
  auto up = [this] {
    ready_ = true;
    attempt_ = 0;
    log_info("redis connected", {{"redis", endpoint_.redacted()}, {"address", address_}});
    if (on_state_) on_state_(true);
  };
  auto select = [this, up](redisReply* r) {
    if (r == nullptr) return;  // the connection is gone, and that is logged
    if (r->type == REDIS_REPLY_ERROR) {
      log_warn("redis select failed", {{"error", r->str}});
      return;
    }
    if (endpoint_.sentinels.empty()) up();
  };
  if (!endpoint_.password.empty()) {
    send({"AUTH", endpoint_.password}, [](redisReply*) {});
  }
  send({"SELECT", std::to_string(endpoint_.db)}, select);
  // A sentinel may still name a master that a failover just demoted.
  if (!endpoint_.sentinels.empty()) {
    send({"ROLE"}, [this, up](redisReply* r) {
      if (r == nullptr) return;
      if (role_is_master(r)) {
        up();
      } else {
        drop("not the master: " + address_);
      }
    });
  }
}

void AsyncRedis::on_connect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<AsyncRedis*>(ctx->data);
  if (self == nullptr || status == REDIS_OK) return;
  // hiredis frees the context after a failed connect.
  self->ctx_ = nullptr;
  self->lost(ctx->errstr);
}

void AsyncRedis::on_disconnect(const redisAsyncContext* ctx, int) {
  auto* self = static_cast<AsyncRedis*>(ctx->data);
  if (self == nullptr) return;
  self->ctx_ = nullptr;
  self->lost(ctx->err ? ctx->errstr : "disconnected");
}

void AsyncRedis::lost(const std::string& why) {
  const bool was_ready = ready_;
  ready_ = false;
  log_warn("redis connection lost", {{"redis", endpoint_.redacted()}, {"error", why}});
  if (was_ready && on_state_) on_state_(false);
  schedule_reconnect();
}

void AsyncRedis::schedule_reconnect() {
  if (stopped_) return;
  const uint64_t delay = std::min<uint64_t>(100u << std::min(attempt_, 5), 2000);
  ++attempt_;
  reconnect_.start(delay, 0, [this] { connect(); });
}

void AsyncRedis::check_liveness() {
  // Behind sentinels the server's role is checked every second: a master demoted by a failover
  // while it kept running answers reads (stale ones) and fails writes with -READONLY.
  if (ready() && !endpoint_.sentinels.empty()) {
    send({"ROLE"}, [this](redisReply* r) {
      if (r != nullptr && r->type == REDIS_REPLY_ARRAY && !role_is_master(r) && ctx_ != nullptr) {
        drop("no longer the master: " + address_);
      }
    });
  }
  // A connection that stops answering (a stalled peer) is dropped so that the callers see the
  // failure instead of waiting for ever.
  if (ctx_ == nullptr || outstanding_ == 0) return;
  // (A WAIT may keep the connection quiet for its whole timeout.)
  if (std::chrono::steady_clock::now() - last_reply_ <
      std::chrono::seconds(5) + endpoint_.wait_timeout)
    return;
  drop("no reply in time");
}

void AsyncRedis::check_connecting() {
  // hiredis's libuv adapter ignores a poll error, so a refused connection attempt would hang
  // until the liveness check; the socket's pending error tells at once.
  if (ctx_ == nullptr || ready_) {
    connect_watch_.stop();
    return;
  }
  int error = 0;
  socklen_t len = sizeof error;
  if (getsockopt(ctx_->c.fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error != 0) {
    connect_watch_.stop();
    drop(std::strerror(error));
  }
}

void AsyncRedis::drop(const std::string& why) {
  redisAsyncContext* ctx = ctx_;
  ctx_ = nullptr;
  ctx->data = nullptr;
  redisAsyncFree(ctx);  // answers pending callbacks with nullptr
  lost(why);
}

void AsyncRedis::command(const std::vector<std::string>& argv, Callback cb) {
  if (!ready()) {
    cb(nullptr);
    return;
  }
  send(argv, std::move(cb));
}

template <typename Submit>
void AsyncRedis::submit(Callback cb, Submit&& submit) {
  auto* req = new Request{this, std::move(cb)};
  if (outstanding_ == 0) last_reply_ = std::chrono::steady_clock::now();
  ++outstanding_;
  if (submit(req) != REDIS_OK) {
    --outstanding_;
    auto callback = std::move(req->cb);
    delete req;
    callback(nullptr);
  }
}

void AsyncRedis::send(const std::vector<std::string>& argv, Callback cb) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  submit(std::move(cb), [&](Request* req) {
    return redisAsyncCommandArgv(ctx_, &AsyncRedis::on_reply, req, static_cast<int>(args.size()),
                                 args.data(), lens.data());
  });
}

void AsyncRedis::formatted(const std::string& command, Callback cb) {
  if (!ready()) {
    cb(nullptr);
    return;
  }
  submit(std::move(cb), [&](Request* req) {
    return redisAsyncFormattedCommand(ctx_, &AsyncRedis::on_reply, req, command.data(),
                                      command.size());
  });
}

void AsyncRedis::eval(const LuaScript& script, const RespArgs& keys, const RespArgs& args,
                      Callback cb) {
  RespArgs digest, numkeys;
  digest.add("EVALSHA");
  digest.add(script.sha1);
  numkeys.add(static_cast<long long>(keys.count()));
  auto command = std::make_shared<std::string>(resp_command({&digest, &numkeys, &keys, &args}));
  // The command is "*N\r\n", the two digest arguments, then the rest.
  const size_t count_end = command->find("\r\n") + 2;
  const size_t rest = count_end + digest.bytes().size();
  formatted(*command, [this, &script, command, count_end, rest, cb = std::move(cb)](redisReply* r) {
    if (r == nullptr || r->type != REDIS_REPLY_ERROR ||
        std::string_view(r->str, r->len).substr(0, 8) != "NOSCRIPT") {
      cb(r);
      return;
    }
    RespArgs text;
    text.add("EVAL");
    text.add(script.text);
    formatted(command->substr(0, count_end) + text.bytes() + command->substr(rest), cb);
  });
}

void AsyncRedis::on_reply(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* req = static_cast<Request*>(privdata);
  AsyncRedis* self = req->owner;
  if (self->outstanding_ > 0) --self->outstanding_;
  self->last_reply_ = std::chrono::steady_clock::now();
  auto cb = std::move(req->cb);
  delete req;
  auto* r = static_cast<redisReply*>(reply);
  try {
    cb(r);
  } catch (const std::exception& e) {
    log_error("unhandled exception in redis callback", {{"error", e.what()}});
  } catch (...) {
    log_error("unhandled exception in redis callback");
  }
  // A demoted master: reconnect, through the sentinels, to the new one.
  if (is_readonly_error(r) && ctx != nullptr && self->ctx_ == ctx) self->drop("READONLY");
}

void AsyncRedis::wait_replicas(std::function<void(bool)> done) {
  if (endpoint_.min_replicas == 0) {
    done(true);
    return;
  }
  if (!ready()) {
    done(false);
    return;
  }
  // WAIT counts the replicas that have this connection's last propagated write. PUBLISH is
  // propagated to replicas without storing anything, so it moves that mark past every write the
  // commands before it made or read (a batch of duplicates writes nothing of its own, and the
  // relay only reads what the request threads wrote).
  send({"PUBLISH", "offers:durable", "1"}, [](redisReply*) {});
  send({"WAIT", std::to_string(endpoint_.min_replicas),
        std::to_string(endpoint_.wait_timeout.count())},
       [this, done = std::move(done)](redisReply* r) {
         const bool ok =
             r != nullptr && r->type == REDIS_REPLY_INTEGER && r->integer >= endpoint_.min_replicas;
         if (!ok) {
           log_warn(
               "redis replicas did not acknowledge in time",
               {{"redis", endpoint_.redacted()},
                {"wanted", std::to_string(endpoint_.min_replicas)},
                {"got", r != nullptr && r->type == REDIS_REPLY_INTEGER ? std::to_string(r->integer)
                                                                       : "no reply"}});
         }
         done(ok);
       });
}

}  // namespace offers
