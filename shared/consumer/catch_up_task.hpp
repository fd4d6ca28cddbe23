#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "shared/common/metrics.hpp"
#include "shared/common/settings.hpp"
#include "shared/common/uv_handles.hpp"
#include "shared/consumer/event_handler.hpp"

namespace offers {

// A subscriber's catch-up from the event feed at start-up (see FeedCatchUp), on a thread of its
// own so that the loop that owns the AMQP and Redis connections never waits for the feed. When
// the feed is exhausted, or the store needs no catch-up, on_done runs on the loop's thread.
class CatchUpTask {
 public:
  CatchUpTask(uv_loop_t* loop, const SubscriberSettings& settings, std::string subscriber,
              EventHandler& handler, Metrics& metrics, std::function<void()> on_done);
  ~CatchUpTask();
  CatchUpTask(const CatchUpTask&) = delete;
  CatchUpTask& operator=(const CatchUpTask&) = delete;

  // Starts the thread; call once the subscriber's queue is declared, so that every event the
  // feed no longer shows is waiting in the queue.
  void start();
  // Stops the thread and waits for it (a fraction of a second).
  void stop();

  struct Status {
    bool catching_up = false;  // reading the feed; the subscriber does not consume yet
    int64_t position = 0;
    std::string error;  // set when the catch-up stopped on a page or event it cannot apply
  };
  Status status() const;

 private:
  void run();

  SubscriberSettings settings_;
  std::string name_;
  EventHandler& handler_;
  Metrics& metrics_;
  std::function<void()> on_done_;
  Async done_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> catching_up_{true};
  std::atomic<int64_t> position_{0};
  mutable std::mutex mu_;
  std::string error_;
  Gauge& active_;
  std::thread thread_;
};

}  // namespace offers
