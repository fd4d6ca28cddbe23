#include "shared/common/uv_handles.hpp"

#include <exception>

#include "shared/common/log.hpp"

namespace offers {
namespace {

template <typename T>
void close_and_free(T* h) {
  h->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(h),
           [](uv_handle_t* handle) { delete reinterpret_cast<T*>(handle); });
}

template <typename Fn, typename... Args>
void guarded(const Fn& fn, Args... args) {
  try {
    if (fn) fn(args...);
  } catch (const std::exception& e) {
    log_error("unhandled exception in event loop callback", {{"error", e.what()}});
  } catch (...) {
    log_error("unhandled exception in event loop callback");
  }
}

}  // namespace

Timer::Timer(uv_loop_t* loop) : h_(new uv_timer_t) {
  uv_timer_init(loop, h_);
  h_->data = this;
}
Timer::~Timer() { close_and_free(h_); }
void Timer::start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> fn) {
  fn_ = std::move(fn);
  uv_timer_start(h_, &Timer::on_timer, timeout_ms, repeat_ms);
}
void Timer::stop() { uv_timer_stop(h_); }
bool Timer::active() const { return uv_is_active(reinterpret_cast<uv_handle_t*>(h_)) != 0; }
void Timer::on_timer(uv_timer_t* h) {
  if (auto* self = static_cast<Timer*>(h->data)) {
    auto fn = self->fn_;  // the callback may restart or destroy the timer
    guarded(fn);
  }
}

Async::Async(uv_loop_t* loop, std::function<void()> fn) : h_(new uv_async_t), fn_(std::move(fn)) {
  uv_async_init(loop, h_, &Async::on_async);
  h_->data = this;
}
Async::~Async() { close_and_free(h_); }
void Async::send() { uv_async_send(h_); }
void Async::on_async(uv_async_t* h) {
  if (auto* self = static_cast<Async*>(h->data)) guarded(self->fn_);
}

Signal::Signal(uv_loop_t* loop, int signum, std::function<void()> fn)
    : h_(new uv_signal_t), fn_(std::move(fn)) {
  uv_signal_init(loop, h_);
  h_->data = this;
  uv_signal_start(h_, &Signal::on_signal, signum);
}
Signal::~Signal() { close_and_free(h_); }
void Signal::on_signal(uv_signal_t* h, int) {
  if (auto* self = static_cast<Signal*>(h->data)) guarded(self->fn_);
}

Poll::Poll(uv_loop_t* loop, int fd, std::function<void(int)> fn)
    : h_(new uv_poll_t), fn_(std::move(fn)) {
  uv_poll_init(loop, h_, fd);
  h_->data = this;
  uv_poll_start(h_, UV_READABLE | UV_DISCONNECT, &Poll::on_poll);
}
Poll::~Poll() { close_and_free(h_); }
void Poll::on_poll(uv_poll_t* h, int status, int) {
  if (auto* self = static_cast<Poll*>(h->data)) {
    auto fn = self->fn_;
    guarded(fn, status);
  }
}

}  // namespace offers
