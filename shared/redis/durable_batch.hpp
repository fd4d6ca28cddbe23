#pragma once

#include <functional>
#include <memory>

#include "shared/redis/redis_async.hpp"

namespace offers {

// A batch of commands that counts as done once every one of them was answered and a WAIT after
// the last of them says enough replicas have their effects (AsyncRedis::wait_replicas). The WAIT
// goes out pipelined behind the batch; a command sent again after it (EVALSHA answered NOSCRIPT,
// then EVAL, as after a failover to a server without the script) gets a second WAIT.
class DurableBatch : public std::enable_shared_from_this<DurableBatch> {
 public:
  // done runs once, on the loop's thread: true when replicated, false otherwise.
  static std::shared_ptr<DurableBatch> create(AsyncRedis& redis, std::function<void(bool)> done);
  // Wraps the callback of one command of the batch.
  AsyncRedis::Callback track(AsyncRedis::Callback cb);
  // Every command is sent: the WAIT follows.
  void seal();

 private:
  DurableBatch(AsyncRedis& redis, std::function<void(bool)> done)
      : redis_(redis), done_(std::move(done)) {}
  void on_wait(bool replicated);
  void finish(bool replicated);

  AsyncRedis& redis_;
  std::function<void(bool)> done_;
  size_t unanswered_ = 0;
  bool wait_again_ = false;  // the WAIT came back while a command was still out
  bool failed_ = false;      // and it came back short
};

}  // namespace offers
