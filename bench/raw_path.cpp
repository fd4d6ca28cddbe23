#include "bench/raw_path.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <poll.h>

#include <chrono>
#include <stdexcept>

#include "shared/amqp/amqp_connection.hpp"
#include "shared/amqp/topology.hpp"
#include "shared/common/envelope.hpp"

namespace offers::bench {
namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void wait_readable(AmqpConnection& c, int timeout_ms) {
  if (c.has_buffered()) return;
  pollfd p{c.fd(), POLLIN, 0};
  poll(&p, 1, timeout_ms);
}

class ConfirmCounter : public FrameSink {
 public:
  uint64_t confirmed = 0;
  void on_method(uint16_t, amqp_method_number_t id, const void* decoded) override {
    if (id == AMQP_BASIC_ACK_METHOD) {
      const auto* a = static_cast<const amqp_basic_ack_t*>(decoded);
      confirmed = std::max<uint64_t>(confirmed, a->delivery_tag);
    } else if (id == AMQP_BASIC_NACK_METHOD) {
      throw std::runtime_error("broker nacked a publish");
    }
  }
  void on_message(Message&&) override {}
};

class Receiver : public FrameSink {
 public:
  std::vector<double>* latency;
  long received = 0;
  uint64_t last_tag = 0;
  double first = 0, last = 0;
  void on_method(uint16_t, amqp_method_number_t, const void*) override {}
  void on_message(Message&& m) override {
    const double t = now_seconds();
    if (received == 0) first = t;
    last = t;
    ++received;
    last_tag = m.delivery_tag;
    if (auto sent = m.props.int_header("x-sent-ns")) {
      latency->push_back(static_cast<double>(steady_ns() - *sent) / 1000.0);
    }
  }
};

std::unique_ptr<AmqpConnection> open(const AmqpEndpoint& ep) {
  auto c = std::make_unique<AmqpConnection>();
  c->open(ep, 0, std::chrono::seconds(10), "bench");
  c->open_channel(1);
  return c;
}

}  // namespace

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string sample_event(long seq) {
  return build_event_json(
      seq, "2026-11-21T10:00:00.123Z", kOfferCreated,
      build_offer_json(seq, "Two coffees for one, offer " + std::to_string(seq)));
}

double raw_publish(const AmqpEndpoint& ep, long n, int window, double rate, Bodies bodies,
                   long first_seq) {
  auto c = open(ep);
  c->confirm_select(1);
  ConfirmCounter confirms;
  // The fastest path the broker allows: the contract's properties and a body of an event's size,
  // built once; per message only what the relay also sets (the message id), and the send time
  // when latency is measured (rate > 0).
  std::string body = sample_event(first_seq);
  Properties p;
  p.content_type = "application/json";
  p.delivery_mode = 2;
  p.type = std::string(kOfferCreated);
  p.app_id = "special-offers";
  p.headers.push_back({"x-schema-version", HeaderValue{int64_t{1}}});
  if (rate > 0) p.headers.push_back({"x-sent-ns", HeaderValue{int64_t{0}}});
  const double start = now_seconds();
  long sent = 0;
  while (static_cast<long>(confirms.confirmed) < n) {
    while (sent < n && sent - static_cast<long>(confirms.confirmed) < window) {
      if (rate > 0 && now_seconds() < start + static_cast<double>(sent) / rate) break;
      p.message_id = message_id_for(first_seq + sent);
      if (bodies == Bodies::Distinct) body = sample_event(first_seq + sent);
      if (rate > 0) p.headers.back().value.value = steady_ns();
      c->publish(1, kExchange, "", false, p, body);
      ++sent;
    }
    wait_readable(*c, rate > 0 ? 1 : 100);
    c->pump(confirms);
  }
  const double seconds = now_seconds() - start;
  c->close();
  return seconds;
}

Drain raw_consume(const AmqpEndpoint& ep, const std::string& queue, long n, int prefetch) {
  auto c = open(ep);
  c->qos(1, static_cast<uint16_t>(prefetch));
  c->consume(1, queue);
  Drain d;
  d.latency_us.reserve(static_cast<size_t>(n));
  Receiver r;
  r.latency = &d.latency_us;
  uint64_t acked = 0;
  while (r.received < n) {
    wait_readable(*c, 100);
    c->pump(r);
    if (r.last_tag > acked) {
      c->ack(1, r.last_tag, true);  // everything read in this pass, in one ack
      acked = r.last_tag;
    }
  }
  d.seconds = r.last - r.first;
  c->close();
  return d;
}

}  // namespace offers::bench
