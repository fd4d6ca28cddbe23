#pragma once

#include <uv.h>

#include <memory>
#include <string>

#include "shared/amqp/amqp_connection.hpp"
#include "shared/common/settings.hpp"
#include "shared/common/uv_handles.hpp"

namespace offers {

// Keeps one AMQP connection alive on a libuv loop: connects, declares the topology, reads frames
// when the socket is readable, sends heartbeats, and reconnects with backoff after any failure.
// Everything runs on the loop thread.
class AmqpClient : private FrameSink {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Open and declared. Throwing AmqpError here counts as a lost connection.
    virtual void on_connected(AmqpConnection& conn) = 0;
    virtual void on_disconnected(const std::string& reason) = 0;
    virtual void on_method(uint16_t channel, amqp_method_number_t id, const void* decoded) = 0;
    virtual void on_message(Message&& message) = 0;
    // The broker's topology disagrees with ours; the process should exit with code 2.
    virtual void on_fatal(const std::string& reason) = 0;
  };

  AmqpClient(uv_loop_t* loop, const CommonSettings& settings, std::string name, Handler& handler);
  ~AmqpClient() override;

  void start();
  // Closes the connection politely and stops reconnecting.
  void stop();
  bool connected() const { return conn_ != nullptr; }
  AmqpConnection* connection() { return conn_.get(); }
  // Drops the connection (after the current read, if inside one) and reconnects later.
  void fail(const std::string& reason);
  // Reads what is buffered now; call after doing blocking RPCs outside a read.
  void pump();

 private:
  void connect();
  void schedule_reconnect();
  void next_broker();
  void teardown(const std::string& reason);
  void on_method(uint16_t channel, amqp_method_number_t id, const void* decoded) override;
  void on_message(Message&& message) override;

  uv_loop_t* loop_;
  CommonSettings settings_;
  std::string name_;
  Handler& handler_;
  std::unique_ptr<AmqpConnection> conn_;
  std::unique_ptr<Poll> poll_;
  Timer heartbeat_;
  Timer reconnect_;
  int attempt_ = 0;
  size_t broker_ = 0;           // index into settings_.brokers of the next one to try
  size_t failed_in_round_ = 0;  // brokers tried without success since the last back-off
  bool stopped_ = true;
  bool in_pump_ = false;
  std::string failure_;
};

}  // namespace offers
