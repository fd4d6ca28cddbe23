#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

namespace offers {

// Owners of libuv handles. The handle memory is freed in its close callback, so destroying the
// owner inside one of its own callbacks is safe. Callbacks never let an exception reach libuv.
class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> fn);
  void stop();
  bool active() const;

 private:
  static void on_timer(uv_timer_t* h);
  uv_timer_t* h_;
  std::function<void()> fn_;
};

class Async {
 public:
  Async(uv_loop_t* loop, std::function<void()> fn);
  ~Async();
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;
  void send();  // thread-safe; sends coalesce

 private:
  static void on_async(uv_async_t* h);
  uv_async_t* h_;
  std::function<void()> fn_;
};

class Signal {
 public:
  Signal(uv_loop_t* loop, int signum, std::function<void()> fn);
  ~Signal();
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

 private:
  static void on_signal(uv_signal_t* h, int);
  uv_signal_t* h_;
  std::function<void()> fn_;
};

class Poll {
 public:
  Poll(uv_loop_t* loop, int fd, std::function<void(int status)> fn);
  ~Poll();
  Poll(const Poll&) = delete;
  Poll& operator=(const Poll&) = delete;

 private:
  static void on_poll(uv_poll_t* h, int status, int events);
  uv_poll_t* h_;
  std::function<void(int)> fn_;
};

}  // namespace offers
