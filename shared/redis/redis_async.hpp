#pragma once

#include <hiredis/async.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "shared/common/settings.hpp"
#include "shared/common/uv_handles.hpp"
#include "shared/redis/redis_sync.hpp"
#include "shared/redis/resp.hpp"
#include "shared/redis/sentinel.hpp"

namespace offers {

// hiredis's async API on a libuv loop, reconnecting by itself (through the sentinels when the
// endpoint has them, also after a -READONLY reply or when the server says it is no longer master).
// Commands are pipelined: each is written at once and its callback runs when its reply arrives, in
// order. A callback receives nullptr when the command could not be answered (connection lost or not
// ready).
class AsyncRedis {
 public:
  using Callback = std::function<void(redisReply* reply)>;
  using StateCallback = std::function<void(bool up)>;

  AsyncRedis(uv_loop_t* loop, RedisEndpoint endpoint, StateCallback on_state);
  ~AsyncRedis();
  AsyncRedis(const AsyncRedis&) = delete;
  AsyncRedis& operator=(const AsyncRedis&) = delete;

  void start();
  void stop();
  // Tries to connect at once instead of at the next back-off step (someone is waiting).
  void reconnect_now();
  // False as soon as the connection is gone, even before its loss is reported.
  bool ready() const { return ready_ && ctx_ != nullptr; }
  size_t outstanding() const { return outstanding_; }
  void command(const std::vector<std::string>& argv, Callback cb);
  // A command already in the wire format (see RespArgs).
  void formatted(const std::string& command, Callback cb);
  // EVALSHA, sent again as EVAL with the script's text when Redis does not know the script (it
  // restarted, or its cache was flushed). The script must outlive the call.
  void eval(const LuaScript& script, const RespArgs& keys, const RespArgs& args, Callback cb);
  // After the commands sent so far: done(true) once the endpoint's min_replicas replicas have
  // everything they wrote or read (WAIT, within its wait_timeout), done(false) when fewer did or
  // the connection is gone. At once done(true) when min_replicas is 0.
  void wait_replicas(std::function<void(bool)> done);
  bool waits_for_replicas() const { return endpoint_.min_replicas > 0; }

 private:
  struct Request;
  static void on_connect(const redisAsyncContext* ctx, int status);
  static void on_disconnect(const redisAsyncContext* ctx, int status);
  static void on_reply(redisAsyncContext* ctx, void* reply, void* privdata);
  void connect();
  void lost(const std::string& why);
  void schedule_reconnect();
  void send(const std::vector<std::string>& argv, Callback cb);
  // Registers the request, runs submit(privdata) and answers nullptr if it fails.
  template <typename Submit>
  void submit(Callback cb, Submit&& submit);
  void check_liveness();
  void check_connecting();
  void drop(const std::string& why);

  uv_loop_t* loop_;
  RedisEndpoint endpoint_;
  std::string address_;  // host:port of the server connected to
  StateCallback on_state_;
  redisAsyncContext* ctx_ = nullptr;  // owned by hiredis once connected
  bool ready_ = false;
  bool stopped_ = true;
  size_t outstanding_ = 0;
  std::chrono::steady_clock::time_point last_reply_;
  Timer reconnect_;
  Timer liveness_;
  Timer connect_watch_;
  int attempt_ = 0;
  std::unique_ptr<SentinelWatch> watch_;  // with sentinels: +switch-master
};

}  // namespace offers
