#include "shared/amqp/amqp_client.hpp"

#include <algorithm>
#include <random>

#include "shared/amqp/topology.hpp"
#include "shared/common/log.hpp"

namespace offers {

AmqpClient::AmqpClient(uv_loop_t* loop, const CommonSettings& settings, std::string name,
                       Handler& handler)
    : loop_(loop),
      settings_(settings),
      name_(std::move(name)),
      handler_(handler),
      heartbeat_(loop),
      reconnect_(loop) {
  // Clients of a restarted cluster spread over its nodes instead of all trying the first.
  static thread_local std::mt19937 rng{std::random_device{}()};
  broker_ = std::uniform_int_distribution<size_t>(0, settings_.brokers.size() - 1)(rng);
}

AmqpClient::~AmqpClient() = default;

void AmqpClient::start() {
  stopped_ = false;
  attempt_ = 0;
  connect();
}

void AmqpClient::stop() {
  stopped_ = true;
  reconnect_.stop();
  heartbeat_.stop();
  poll_.reset();
  if (conn_) {
    conn_->close();
    conn_.reset();
  }
}

void AmqpClient::connect() {
  if (stopped_ || conn_) return;
  auto conn = std::make_unique<AmqpConnection>();
  const AmqpEndpoint& broker = settings_.brokers[broker_];
  try {
    conn->open(broker, settings_.heartbeat_seconds, std::chrono::seconds(5), name_);
    conn->open_channel(1);
    declare_topology(*conn, 1, settings_.queue_type, settings_.delivery_limit);
  } catch (const TopologyMismatch& e) {
    log_error("broker topology differs from ours", {{"error", e.what()}});
    stopped_ = true;
    handler_.on_fatal(e.what());
    return;
  } catch (const AmqpError& e) {
    log_warn("broker connection failed", {{"error", e.what()}, {"broker", broker.redacted()}});
    next_broker();
    // The other brokers are tried at once; the back-off starts once every one of them failed.
    if (++failed_in_round_ < settings_.brokers.size()) {
      reconnect_.start(1, 0, [this] { connect(); });
    } else {
      failed_in_round_ = 0;
      schedule_reconnect();
    }
    return;
  }
  conn_ = std::move(conn);
  attempt_ = 0;
  failed_in_round_ = 0;
  log_info("broker connected", {{"broker", broker.redacted()}});
  poll_ = std::make_unique<Poll>(loop_, conn_->fd(), [this](int status) {
    if (status < 0) {
      fail(std::string("socket error: ") + uv_strerror(status));
    } else {
      pump();
    }
  });
  if (settings_.heartbeat_seconds > 0) {
    const uint64_t every = std::max<uint64_t>(250, settings_.heartbeat_seconds * 1000 / 4);
    heartbeat_.start(every, every, [this] { pump(); });
  }
  try {
    handler_.on_connected(*conn_);
  } catch (const AmqpError& e) {
    teardown(e.what());
    return;
  }
  pump();
}

void AmqpClient::schedule_reconnect() {
  if (stopped_) return;
  const double base =
      static_cast<double>(settings_.reconnect_min.count()) * (1 << std::min(attempt_, 10));
  const double capped = std::min(base, static_cast<double>(settings_.reconnect_max.count()));
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  ++attempt_;
  reconnect_.start(static_cast<uint64_t>(capped * jitter(rng)), 0, [this] { connect(); });
}

void AmqpClient::next_broker() { broker_ = (broker_ + 1) % settings_.brokers.size(); }

void AmqpClient::fail(const std::string& reason) {
  if (in_pump_) {
    if (failure_.empty()) failure_ = reason;
    return;
  }
  teardown(reason);
}

void AmqpClient::teardown(const std::string& reason) {
  if (!conn_) return;
  heartbeat_.stop();
  poll_.reset();
  conn_.reset();
  log_warn("broker connection lost", {{"error", reason}});
  next_broker();
  handler_.on_disconnected(reason);
  schedule_reconnect();
}

void AmqpClient::pump() {
  if (!conn_ || in_pump_) return;
  in_pump_ = true;
  try {
    do {
      conn_->pump(*this);
    } while (failure_.empty() && conn_->has_buffered());
  } catch (const AmqpError& e) {
    if (failure_.empty()) failure_ = e.what();
  }
  in_pump_ = false;
  if (!failure_.empty()) {
    std::string reason;
    reason.swap(failure_);
    teardown(reason);
  }
}

void AmqpClient::on_method(uint16_t channel, amqp_method_number_t id, const void* decoded) {
  handler_.on_method(channel, id, decoded);
}

void AmqpClient::on_message(Message&& message) { handler_.on_message(std::move(message)); }

}  // namespace offers
