#include "shared/consumer/catch_up_task.hpp"

#include "shared/common/log.hpp"
#include "shared/consumer/feed_catch_up.hpp"

namespace offers {

CatchUpTask::CatchUpTask(uv_loop_t* loop, const SubscriberSettings& settings,
                         std::string subscriber, EventHandler& handler, Metrics& metrics,
                         std::function<void()> on_done)
    : settings_(settings),
      name_(std::move(subscriber)),
      handler_(handler),
      metrics_(metrics),
      on_done_(std::move(on_done)),
      done_(loop, [this] { on_done_(); }),
      active_(metrics.gauge("catch_up_active", "1 while the subscriber catches up from the feed")) {
  active_.set(1);
}

CatchUpTask::~CatchUpTask() { stop(); }

void CatchUpTask::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void CatchUpTask::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

CatchUpTask::Status CatchUpTask::status() const {
  Status s;
  s.catching_up = catching_up_;
  s.position = position_;
  std::lock_guard lock(mu_);
  s.error = error_;
  return s;
}

void CatchUpTask::run() {
  try {
    FeedCatchUp feed(settings_, name_, handler_, metrics_, stop_);
    const auto from = feed.begin();
    if (from) {
      position_ = *from;
      const bool exhausted = feed.run(*from, [&] { position_ = feed.position(); });
      position_ = feed.position();
      if (!exhausted) return;  // stopping
      feed.finish();
    } else if (stop_) {
      return;
    }
  } catch (const std::exception& e) {
    // Only this catch-up stops: the process stays up, not ready, with the reason in /readyz.
    log_error("catch-up from the event feed stopped", {{"error", e.what()}});
    std::lock_guard lock(mu_);
    error_ = e.what();
    return;
  }
  catching_up_ = false;
  active_.set(0);
  done_.send();
}

}  // namespace offers
