#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "shared/common/settings.hpp"

namespace offers {

class RedisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// How long a client waits for one sentinel's answer before it asks the next.
inline constexpr std::chrono::milliseconds kSentinelTimeout{250};

std::string script_sha1(const std::string& script);

// A Lua script and its SHA-1, computed once, for EVALSHA.
struct LuaScript {
  explicit LuaScript(std::string source) : text(std::move(source)), sha1(script_sha1(text)) {}
  std::string text;
  std::string sha1;
};

// A blocking Redis connection for request threads (HTTP handlers, tools). Connects lazily and
// reconnects on the next call after a failure or a -READONLY reply (through the sentinels, when
// the endpoint has them). Throws RedisError when Redis cannot be reached or
// answers with an error.
class SyncRedis {
 public:
  SyncRedis(RedisEndpoint endpoint, std::chrono::milliseconds timeout);
  ReplyPtr command(const std::vector<std::string>& argv);
  // EVALSHA, loading the script first when Redis does not know it.
  ReplyPtr eval(const LuaScript& script, const std::vector<std::string>& keys,
                const std::vector<std::string>& args);
  // With REDIS_MIN_REPLICAS > 0: returns once that many replicas have every write made so far
  // (PUBLISH then WAIT, as AsyncRedis::wait_replicas); throws RedisError when fewer answered.
  void wait_replicas();

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const { redisFree(c); }
  };
  void connect();
  ReplyPtr raw(const std::vector<std::string>& argv);
  RedisEndpoint endpoint_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<redisContext, ContextDeleter> ctx_;
};

// Connections shared by request threads; a lease gives one to a single thread at a time.
class RedisPool {
 public:
  RedisPool(RedisEndpoint endpoint, std::chrono::milliseconds timeout);
  class Lease {
   public:
    Lease(RedisPool& pool, std::unique_ptr<SyncRedis> conn) : pool_(pool), conn_(std::move(conn)) {}
    ~Lease() { pool_.give_back(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SyncRedis* operator->() { return conn_.get(); }
    SyncRedis& operator*() { return *conn_; }

   private:
    RedisPool& pool_;
    std::unique_ptr<SyncRedis> conn_;
  };
  Lease lease();

 private:
  void give_back(std::unique_ptr<SyncRedis> conn);
  RedisEndpoint endpoint_;
  std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SyncRedis>> idle_;
};

}  // namespace offers
