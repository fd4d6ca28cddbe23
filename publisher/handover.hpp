#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "publisher/offer_store.hpp"

namespace offers {

// Events just committed (by the OutboxWriter), on their way to the relay. Thread-safe, and both
// sides hold it (shared_ptr), so a write that finishes while the service shuts down finds it
// still there and the relay detached: the event then simply waits in the outbox, which stays the
// source of truth. Enough for a burst of writes; beyond it events are read from the outbox.
inline constexpr size_t kHandOverCapacity = 10000;

class HandOver {
 public:
  explicit HandOver(size_t capacity) : capacity_(capacity) {}

  // Any thread. Dropped when nobody is attached or the queue is full.
  void push(OutboxEvent&& event);
  // The attached side: everything pushed so far.
  std::vector<OutboxEvent> take();
  // wake is called (under the lock) after each push; detach() guarantees no call after it returns.
  void attach(std::function<void()> wake);
  void detach();

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::vector<OutboxEvent> events_;
  std::function<void()> wake_;
};

}  // namespace offers
