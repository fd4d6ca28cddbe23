#include "publisher/handover.hpp"

#include <utility>

namespace offers {

void HandOver::push(OutboxEvent&& event) {
  std::lock_guard lock(mu_);
  if (!wake_ || events_.size() >= capacity_) return;
  events_.push_back(std::move(event));
  wake_();
}

std::vector<OutboxEvent> HandOver::take() {
  std::lock_guard lock(mu_);
  return std::exchange(events_, {});
}

void HandOver::attach(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
}

void HandOver::detach() {
  std::lock_guard lock(mu_);
  wake_ = nullptr;
  events_.clear();
}

}  // namespace offers
