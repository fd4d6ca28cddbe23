#pragma once

#include <amqp.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shared/amqp/amqp_message.hpp"
#include "shared/common/settings.hpp"

namespace offers {

// A view of s for librabbitmq's calls (which take amqp_bytes_t and copy what they keep).
inline amqp_bytes_t amqp_view(std::string_view s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

// Network or protocol trouble: the connection is unusable; reconnect.
class AmqpError : public std::runtime_error {
 public:
  explicit AmqpError(const std::string& what, int reply_code = 0)
      : std::runtime_error(what), reply_code_(reply_code) {}
  int reply_code() const { return reply_code_; }

 private:
  int reply_code_;
};

// Receives what AmqpConnection::pump reads. Deliveries and returns arrive whole.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void on_method(uint16_t channel, amqp_method_number_t id, const void* decoded) = 0;
  virtual void on_message(Message&& message) = 0;
};

// One AMQP connection over rabbitmq-c. It belongs to one thread. Set-up calls (open, declare,
// consume...) are blocking RPCs bounded by the RPC timeout; pump() never blocks.
class AmqpConnection {
 public:
  AmqpConnection();
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  void open(const AmqpEndpoint& endpoint, int heartbeat_seconds, std::chrono::milliseconds timeout,
            std::string_view connection_name);
  int fd() const;
  amqp_connection_state_t raw() const { return conn_.get(); }

  void open_channel(uint16_t channel);
  void close_channel(uint16_t channel);  // best effort
  void close();                          // best effort, bounded by the RPC timeout
  void confirm_select(uint16_t channel);
  void qos(uint16_t channel, uint16_t prefetch);
  std::string consume(uint16_t channel, std::string_view queue);
  void cancel(uint16_t channel, std::string_view consumer_tag);
  uint32_t purge(uint16_t channel, std::string_view queue);
  // Message count of an existing queue (passive declare).
  uint32_t queue_message_count(uint16_t channel, std::string_view queue);
  // Consumers of an existing queue (passive declare).
  uint32_t queue_consumer_count(uint16_t channel, std::string_view queue);
  std::optional<Message> get(uint16_t channel, std::string_view queue);

  void publish(uint16_t channel, std::string_view exchange, std::string_view routing_key,
               bool mandatory, const Properties& props, std::string_view body);
  void ack(uint16_t channel, uint64_t tag, bool multiple);
  void nack(uint16_t channel, uint64_t tag, bool multiple, bool requeue);
  void reject(uint16_t channel, uint64_t tag, bool requeue);

  // Reads every frame that is available now, sending heartbeats when due.
  void pump(FrameSink& sink);
  // Whether rabbitmq-c holds read-ahead data or queued frames that pump() has not consumed.
  bool has_buffered() const;

  // Throws AmqpError for a failed RPC reply, answering a broker close first.
  void check(const amqp_rpc_reply_t& reply, std::string_view what);

 private:
  struct Deleter {
    void operator()(amqp_connection_state_t c) const { amqp_destroy_connection(c); }
  };
  void handle(const amqp_frame_t& frame, FrameSink& sink);
  void check_status(int status, std::string_view what);

  std::unique_ptr<amqp_connection_state_t_, Deleter> conn_;
  struct Pending {
    Message message;
    uint64_t body_size = 0;
    bool have_header = false;
  };
  std::map<uint16_t, Pending> pending_;
};

Properties copy_properties(const amqp_basic_properties_t& p);

}  // namespace offers
