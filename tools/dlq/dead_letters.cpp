#include "tools/dlq/dead_letters.hpp"

#include <amqp_framing.h>
#include <poll.h>

#include <chrono>

#include "shared/amqp/topology.hpp"
#include "shared/common/log.hpp"

namespace offers {
namespace {

constexpr uint16_t kGet = 1;
constexpr uint16_t kPublish = 2;

class ConfirmSink : public FrameSink {
 public:
  uint64_t acked = 0;
  bool nacked = false;
  bool returned = false;
  void on_method(uint16_t channel, amqp_method_number_t id, const void* decoded) override {
    if (channel != kPublish) return;
    if (id == AMQP_BASIC_ACK_METHOD)
      acked = static_cast<const amqp_basic_ack_t*>(decoded)->delivery_tag;
    if (id == AMQP_BASIC_NACK_METHOD) nacked = true;
  }
  void on_message(Message&& m) override {
    if (m.kind == Message::Kind::Return) returned = true;
  }
};

std::string reason_of(const Message& m) {
  if (auto e = m.props.string_header("x-error")) return *e;
  if (const auto* death = m.props.header("x-death")) {
    const std::string d = header_value_json(*death);
    const auto at = d.find("\"reason\":");
    if (at != std::string::npos) {
      const auto end = d.find('"', at + 10);
      return "broker: " + d.substr(at + 10, end - at - 10);
    }
  }
  return "";
}

}  // namespace

std::optional<DeadLetters::Selector> DeadLetters::Selector::parse(const std::string& text) {
  Selector s;
  if (text == "--all" || text == "all") {
    s.all = true;
    return s;
  }
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    const size_t p = std::stoul(text);
    if (p == 0) return std::nullopt;
    s.position = p;
    return s;
  }
  if (text.empty()) return std::nullopt;
  s.message_id = text;
  return s;
}

DeadLetters::DeadLetters(const AmqpEndpoint& endpoint, const std::string& subscriber)
    : endpoint_(endpoint), subscriber_(subscriber), queue_(SubscriberQueues(subscriber).dlq) {
  reconnect();
}

void DeadLetters::reconnect() {
  if (conn_) conn_->close();
  conn_ = std::make_unique<AmqpConnection>();
  conn_->open(endpoint_, 0, std::chrono::seconds(10), "offers-dlq");
  conn_->open_channel(kGet);
  conn_->open_channel(kPublish);
  conn_->confirm_select(kPublish);
  publish_tag_ = 0;
}

uint32_t DeadLetters::count() { return conn_->queue_message_count(kGet, queue_); }

std::string describe_dead_letter(const Message& m, size_t position) {
  std::string line = std::to_string(position) + "\t" + m.props.message_id.value_or("-") + "\t" +
                     m.props.type.value_or("-") + "\tretries=" +
                     std::to_string(m.props.int_header("x-retry-count").value_or(0)) + "\t" +
                     m.props.string_header("x-failed-at").value_or("-") + "\t" + reason_of(m);
  return line;
}

void DeadLetters::list(std::ostream& out, size_t limit) {
  out << count() << " dead letters in " << queue_ << "\n";
  out << "#\tmessage_id\ttype\tretries\tfailed_at\treason\n";
  for (size_t i = 1; i <= limit; ++i) {
    auto m = conn_->get(kGet, queue_);
    if (!m) break;
    out << describe_dead_letter(*m, i) << "\n";
  }
  reconnect();  // hands every looked-at message back, in its place
}

std::optional<Message> DeadLetters::find(const Selector& which, size_t& position) {
  for (position = 1;; ++position) {
    auto m = conn_->get(kGet, queue_);
    if (!m) return std::nullopt;
    if (which.all) return m;
    if (which.position && *which.position == position) return m;
    if (!which.message_id.empty() && m->props.message_id == which.message_id) return m;
  }
}

bool DeadLetters::show(std::ostream& out, const Selector& which) {
  size_t position = 0;
  auto m = find(which, position);
  if (m) {
    out << "position:       " << position << "\n";
    out << "message_id:     " << m->props.message_id.value_or("-") << "\n";
    out << "type:           " << m->props.type.value_or("-") << "\n";
    out << "correlation_id: " << m->props.correlation_id.value_or("-") << "\n";
    out << "content_type:   " << m->props.content_type.value_or("-") << "\n";
    out << "redelivered:    " << (m->redelivered ? "yes" : "no") << "\n";
    out << "headers:\n";
    for (const auto& h : m->props.headers)
      out << "  " << h.key << ": " << header_value_json(h.value) << "\n";
    out << "body:\n" << m->body << "\n";
  }
  reconnect();
  return m.has_value();
}

void DeadLetters::republish_confirmed(const Message& m) {
  Properties p = m.props;
  p.expiration.reset();
  std::vector<Header> kept;
  for (auto& h : p.headers) {
    if (h.key == "x-retry-count" || h.key == "x-death" || h.key.rfind("x-first-death", 0) == 0 ||
        h.key.rfind("x-last-death", 0) == 0) {
      continue;
    }
    kept.push_back(h);
  }
  p.headers = std::move(kept);
  p.set_header("x-replayed-at", HeaderValue{utc_now_iso8601()});
  // The default exchange delivers to S alone: the other subscribers never see a replay.
  conn_->publish(kPublish, "", subscriber_, true, p, m.body);
  const uint64_t tag = ++publish_tag_;
  ConfirmSink sink;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (sink.acked < tag && !sink.nacked && !sink.returned) {
    if (std::chrono::steady_clock::now() > deadline) throw AmqpError("no confirm from the broker");
    pollfd pfd{conn_->fd(), POLLIN, 0};
    if (!conn_->has_buffered()) poll(&pfd, 1, 100);
    conn_->pump(sink);
  }
  if (sink.nacked || sink.returned) throw AmqpError("the broker did not take the replayed message");
}

size_t DeadLetters::replay(std::ostream& out, const Selector& which) {
  size_t moved = 0;
  // Only the messages present at the start: a replay that fails again comes back behind them.
  const uint32_t limit = which.all ? count() : 1;
  for (uint32_t i = 0; i < limit; ++i) {
    size_t position = 0;
    auto m = find(which, position);
    if (!m) break;
    republish_confirmed(*m);
    conn_->ack(kGet, m->delivery_tag, false);
    out << "replayed " << m->props.message_id.value_or("(no message_id)") << " into " << subscriber_
        << "\n";
    ++moved;
    if (!which.all) break;
  }
  reconnect();
  return moved;
}

size_t DeadLetters::purge(std::ostream& out, const Selector& which) {
  if (which.all) {
    const uint32_t n = conn_->purge(kGet, queue_);
    out << "purged " << n << " dead letters from " << queue_ << "\n";
    return n;
  }
  size_t position = 0;
  auto m = find(which, position);
  size_t removed = 0;
  if (m) {
    conn_->ack(kGet, m->delivery_tag, false);
    out << "purged " << m->props.message_id.value_or("(no message_id)") << "\n";
    removed = 1;
  }
  reconnect();
  return removed;
}

}  // namespace offers
