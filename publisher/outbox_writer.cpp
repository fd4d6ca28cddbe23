#include "publisher/outbox_writer.hpp"

#include <iterator>
#include <utility>

#include "shared/common/fault_points.hpp"
#include "shared/common/log.hpp"
#include "shared/redis/durable_batch.hpp"

namespace offers {

OutboxWriter::OutboxWriter(uv_loop_t* loop, const RedisEndpoint& redis,
                           std::shared_ptr<HandOver> handover, Metrics& metrics)
    : handover_(std::move(handover)),
      redis_(loop, redis,
             [this](bool up) {
               if (up) send_queued();
             }),
      wake_(loop, [this] { send_queued(); }),
      expire_(loop),
      waiting_gauge_(
          metrics.gauge("outbox_writes_waiting", "Offer writes waiting for a Redis connection")) {}

OutboxWriter::~OutboxWriter() {
  closing_ = true;
  redis_.stop();  // answers what Redis has not answered yet
  fail_all();
}

void OutboxWriter::start() { redis_.start(); }

void OutboxWriter::submit(OfferWrite&& write, Done done) {
  std::lock_guard lock(mu_);
  queue_.push_back(
      Pending{std::move(write), std::move(done), std::chrono::steady_clock::now() + kWriteWait});
  if (queue_.size() == 1) wake_.send();  // later ones ride on the same wake-up
}

void OutboxWriter::take_queued() {
  std::lock_guard lock(mu_);
  std::move(queue_.begin(), queue_.end(), std::back_inserter(waiting_));
  queue_.clear();
}

void OutboxWriter::send_queued() {
  take_queued();
  if (!redis_.ready()) {
    waiting_gauge_.set(static_cast<double>(waiting_.size()));
    if (!waiting_.empty() && !expire_.active()) {
      redis_.reconnect_now();
      expire_.start(100, 100, [this] { expire_waiting(); });
    }
    return;
  }
  expire_.stop();
  waiting_gauge_.set(0);
  // A WAIT holds the connection until the replicas answer, so the writes that come meanwhile
  // wait for it here and then go as one batch with one WAIT (group commit).
  if (replicating_) return;
  std::vector<Pending> batch;
  batch.swap(waiting_);
  if (!redis_.waits_for_replicas()) {
    for (auto& p : batch) send(p);
    return;
  }
  if (batch.empty()) return;
  replicating_ = true;
  // With REDIS_MIN_REPLICAS the batch's writes are answered together, once one WAIT after the
  // last of them says enough replicas have them all; a short WAIT fails every write of the batch
  // (503). Such a write may still be in the outbox and be published later: it was refused, not
  // undone.
  auto outcomes = std::make_shared<std::vector<std::pair<Done, WriteOutcome>>>();
  outcomes->reserve(batch.size());
  auto durable = DurableBatch::create(redis_, [this, outcomes](bool replicated) {
    replicating_ = false;
    for (auto& [done, outcome] : *outcomes) {
      if (!replicated) {
        WriteOutcome failed = write_outcome(nullptr);
        failed.error = "not acknowledged by enough Redis replicas";
        done(std::move(failed));
      } else {
        finish(std::move(outcome), done);
      }
    }
    if (!closing_) send_queued();  // what came meanwhile
  });
  for (auto& p : batch) {
    redis_.eval(*p.write.script, p.write.keys, p.write.args,
                durable->track([outcomes, done = std::move(p.done)](redisReply* r) mutable {
                  outcomes->emplace_back(std::move(done), write_outcome(r));
                }));
  }
  durable->seal();
}

void OutboxWriter::send(Pending& p) {
  redis_.eval(*p.write.script, p.write.keys, p.write.args,
              [this, done = std::move(p.done)](redisReply* r) { finish(write_outcome(r), done); });
}

void OutboxWriter::finish(WriteOutcome&& outcome, const Done& done) {
  if (outcome.status == WriteOutcome::Status::Done) {
    handover_->push(std::move(outcome.result.event));  // done() needs the offer only
    fault_point("after_commit");
  }
  done(std::move(outcome));
}

void OutboxWriter::expire_waiting() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<Pending> keep;
  for (auto& p : waiting_) {
    if (p.deadline <= now) {
      p.done(write_outcome(nullptr));
    } else {
      keep.push_back(std::move(p));
    }
  }
  waiting_.swap(keep);
  waiting_gauge_.set(static_cast<double>(waiting_.size()));
  if (waiting_.empty()) expire_.stop();
}

void OutboxWriter::fail_all() {
  take_queued();
  std::vector<Pending> batch;
  batch.swap(waiting_);
  for (auto& p : batch) p.done(write_outcome(nullptr));
}

}  // namespace offers
