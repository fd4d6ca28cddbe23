#include "shared/redis/durable_batch.hpp"

namespace offers {

std::shared_ptr<DurableBatch> DurableBatch::create(AsyncRedis& redis,
                                                   std::function<void(bool)> done) {
  return std::shared_ptr<DurableBatch>(new DurableBatch(redis, std::move(done)));
}

AsyncRedis::Callback DurableBatch::track(AsyncRedis::Callback cb) {
  ++unanswered_;
  return [self = shared_from_this(), cb = std::move(cb)](redisReply* r) {
    cb(r);
    if (--self->unanswered_ > 0) return;
    if (self->failed_) {
      self->finish(false);
    } else if (self->wait_again_) {
      self->wait_again_ = false;
      self->redis_.wait_replicas([self](bool replicated) { self->on_wait(replicated); });
    }
  };
}

void DurableBatch::seal() {
  redis_.wait_replicas([self = shared_from_this()](bool replicated) { self->on_wait(replicated); });
}

void DurableBatch::on_wait(bool replicated) {
  if (unanswered_ > 0) {
    // Decided once the last command is answered (done sees every answer).
    (replicated ? wait_again_ : failed_) = true;
    return;
  }
  finish(replicated);
}

void DurableBatch::finish(bool replicated) {
  if (!done_) return;
  auto done = std::move(done_);
  done_ = nullptr;
  done(replicated);
}

}  // namespace offers
