#pragma once

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "shared/common/settings.hpp"
#include "shared/common/uv_handles.hpp"

namespace offers {

// The Sentinel glue, hiredis having no Sentinel client: where the master is, and how to tell
// that a server stopped being it. Both Redis clients (SyncRedis, AsyncRedis) use it.

// Asks the sentinels of the endpoint in turn (SENTINEL get-master-addr-by-name) for its master's
// address; nullopt, with why in error, when none answers with one. Blocks up to timeout per
// sentinel.
std::optional<HostPort> ask_sentinels(const RedisEndpoint& endpoint,
                                      std::chrono::milliseconds timeout, std::string& error);

// Where to connect: the endpoint's own address, or with sentinels the master's they report.
std::optional<HostPort> redis_address(const RedisEndpoint& endpoint,
                                      std::chrono::milliseconds timeout, std::string& error);

// Whether a reply to ROLE says the server is a master.
bool role_is_master(const redisReply* reply);

// A -READONLY error: the server became a replica (a failover demoted it).
bool is_readonly_error(const redisReply* reply);
bool is_readonly_error(const std::string& message);

// Listens to one sentinel at a time for +switch-master about the endpoint's master and calls
// on_switch with the new master's "host:port"; moves on to the next sentinel when the one it
// listens to goes away or does not answer. On the loop's thread.
class SentinelWatch {
 public:
  SentinelWatch(uv_loop_t* loop, RedisEndpoint endpoint,
                std::function<void(const std::string& master)> on_switch);
  ~SentinelWatch();
  SentinelWatch(const SentinelWatch&) = delete;
  SentinelWatch& operator=(const SentinelWatch&) = delete;
  void start();
  void stop();

 private:
  static void on_message(redisAsyncContext* ctx, void* reply, void* privdata);
  static void on_connect(const redisAsyncContext* ctx, int status);
  static void on_disconnect(const redisAsyncContext* ctx, int status);
  void connect();
  void drop();
  void retry_later();

  uv_loop_t* loop_;
  RedisEndpoint endpoint_;
  std::function<void(const std::string&)> on_switch_;
  redisAsyncContext* ctx_ = nullptr;  // owned by hiredis once connected
  size_t next_ = 0;                   // the sentinel to try next
  bool subscribed_ = false;
  bool stopped_ = true;
  Timer timer_;
};

}  // namespace offers
