#pragma once

#include <uv.h>

#include <functional>
#include <memory>

#include "shared/common/metrics.hpp"
#include "shared/common/settings.hpp"
#include "shared/common/uv_handles.hpp"
#include "shared/http/http_service.hpp"

namespace offers {

// The life of a service process: its HTTP API on Pistache's threads, its work on one libuv loop
// (the loop's thread is the caller's), stopped by SIGTERM or SIGINT or a fatal error.
class ServiceRunner {
 public:
  ServiceRunner(const CommonSettings& settings, Metrics& metrics);
  ~ServiceRunner();

  uv_loop_t* loop() { return &loop_; }
  HttpService& http() { return *http_; }
  // Starts an orderly stop; from the loop's thread (signal handlers, fatal errors).
  void shutdown(int exit_code);

  struct Hooks {
    std::function<void()> start;                           // once HTTP is serving
    std::function<void(std::function<void()> done)> stop;  // settle, then call done
    std::function<void()> release;  // destroy what owns loop handles, before the loop closes
  };
  // Returns the exit code: 0 after a signal, 2 after a fatal error, 1 if HTTP cannot bind.
  int run(const Hooks& hooks);

 private:
  uv_loop_t loop_;
  const CommonSettings& settings_;
  std::unique_ptr<HttpService> http_;
  std::unique_ptr<Signal> term_, intr_;
  std::function<void(std::function<void()>)> stop_;
  bool stopping_ = false;
  int exit_code_ = 0;
};

}  // namespace offers
