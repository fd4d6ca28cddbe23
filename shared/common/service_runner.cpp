#include "shared/common/service_runner.hpp"

#include <csignal>

#include "shared/common/log.hpp"

namespace offers {

ServiceRunner::ServiceRunner(const CommonSettings& settings, Metrics& metrics)
    : settings_(settings) {
  uv_loop_init(&loop_);
  HttpEdgeSettings edge;
  edge.idle_timeout = settings.http_idle_timeout;
  edge.request_timeout = settings.http_request_timeout;
  http_ = std::make_unique<HttpService>(settings.http_port, settings.http_threads, edge, metrics);
}

ServiceRunner::~ServiceRunner() = default;

void ServiceRunner::shutdown(int exit_code) {
  if (stopping_) return;
  stopping_ = true;
  exit_code_ = exit_code;
  log_info("shutting down");
  stop_([this] {
    http_->stop();
    uv_stop(&loop_);
  });
}

int ServiceRunner::run(const Hooks& hooks) {
  stop_ = hooks.stop;
  try {
    http_->start();
  } catch (const std::exception& e) {
    log_error("cannot serve HTTP",
              {{"error", e.what()}, {"port", std::to_string(settings_.http_port)}});
    hooks.release();
    uv_run(&loop_, UV_RUN_NOWAIT);
    uv_loop_close(&loop_);
    return 1;
  }
  log_info("listening", {{"port", std::to_string(http_->port())},
                         {"broker", settings_.amqp.redacted()},
                         {"redis", settings_.redis.redacted()}});
  term_ = std::make_unique<Signal>(&loop_, SIGTERM, [this] { shutdown(0); });
  intr_ = std::make_unique<Signal>(&loop_, SIGINT, [this] { shutdown(0); });
  hooks.start();
  uv_run(&loop_, UV_RUN_DEFAULT);

  hooks.release();
  term_.reset();
  intr_.reset();
  http_.reset();
  uv_run(&loop_, UV_RUN_DEFAULT);  // runs the close callbacks of every handle
  if (uv_loop_close(&loop_) != 0) log_warn("event loop closed with handles still open");
  log_info("stopped", {{"exit_code", std::to_string(exit_code_)}});
  return exit_code_;
}

}  // namespace offers
