#include "shared/amqp/amqp_connection.hpp"

#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdio>
#include <vector>

#include "shared/common/json.hpp"

namespace offers {
namespace {

std::string str(amqp_bytes_t b) { return std::string(static_cast<const char*>(b.bytes), b.len); }

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string field_json(const amqp_field_value_t& v);

std::string table_json(const amqp_table_t& t) {
  std::string out = "{";
  for (int i = 0; i < t.num_entries; ++i) {
    if (i) out += ",";
    out += json_quote(str(t.entries[i].key)) + ":" + field_json(t.entries[i].value);
  }
  return out + "}";
}

std::string field_json(const amqp_field_value_t& v) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return v.value.boolean ? "true" : "false";
    case AMQP_FIELD_KIND_I8:
      return std::to_string(v.value.i8);
    case AMQP_FIELD_KIND_U8:
      return std::to_string(v.value.u8);
    case AMQP_FIELD_KIND_I16:
      return std::to_string(v.value.i16);
    case AMQP_FIELD_KIND_U16:
      return std::to_string(v.value.u16);
    case AMQP_FIELD_KIND_I32:
      return std::to_string(v.value.i32);
    case AMQP_FIELD_KIND_U32:
      return std::to_string(v.value.u32);
    case AMQP_FIELD_KIND_I64:
      return std::to_string(v.value.i64);
    case AMQP_FIELD_KIND_U64:
      return std::to_string(v.value.u64);
    case AMQP_FIELD_KIND_TIMESTAMP:
      return std::to_string(v.value.u64);
    case AMQP_FIELD_KIND_F32:
      return std::to_string(v.value.f32);
    case AMQP_FIELD_KIND_F64:
      return std::to_string(v.value.f64);
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return json_quote(str(v.value.bytes));
    case AMQP_FIELD_KIND_TABLE:
      return table_json(v.value.table);
    case AMQP_FIELD_KIND_ARRAY: {
      std::string out = "[";
      for (int i = 0; i < v.value.array.num_entries; ++i) {
        if (i) out += ",";
        out += field_json(v.value.array.entries[i]);
      }
      return out + "]";
    }
    default:
      return "null";
  }
}

HeaderValue header_value(const amqp_field_value_t& v) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return {v.value.boolean != 0};
    case AMQP_FIELD_KIND_I8:
      return {int64_t{v.value.i8}};
    case AMQP_FIELD_KIND_U8:
      return {int64_t{v.value.u8}};
    case AMQP_FIELD_KIND_I16:
      return {int64_t{v.value.i16}};
    case AMQP_FIELD_KIND_U16:
      return {int64_t{v.value.u16}};
    case AMQP_FIELD_KIND_I32:
      return {int64_t{v.value.i32}};
    case AMQP_FIELD_KIND_U32:
      return {int64_t{v.value.u32}};
    case AMQP_FIELD_KIND_I64:
      return {int64_t{v.value.i64}};
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      return {static_cast<int64_t>(v.value.u64)};
    case AMQP_FIELD_KIND_F32:
      return {double{v.value.f32}};
    case AMQP_FIELD_KIND_F64:
      return {v.value.f64};
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return {str(v.value.bytes)};
    default:
      return {field_json(v), true};
  }
}

amqp_field_value_t field_value(const HeaderValue& h) {
  amqp_field_value_t f{};
  if (const auto* b = std::get_if<bool>(&h.value)) {
    f.kind = AMQP_FIELD_KIND_BOOLEAN;
    f.value.boolean = *b;
  } else if (const auto* i = std::get_if<int64_t>(&h.value)) {
    f.kind = AMQP_FIELD_KIND_I64;
    f.value.i64 = *i;
  } else if (const auto* d = std::get_if<double>(&h.value)) {
    f.kind = AMQP_FIELD_KIND_F64;
    f.value.f64 = *d;
  } else {
    f.kind = AMQP_FIELD_KIND_UTF8;
    f.value.bytes = amqp_view(std::get<std::string>(h.value));
  }
  return f;
}

}  // namespace

Properties copy_properties(const amqp_basic_properties_t& p) {
  Properties out;
  auto opt = [&](amqp_flags_t flag, amqp_bytes_t b) -> std::optional<std::string> {
    if (p._flags & flag) return str(b);
    return std::nullopt;
  };
  out.content_type = opt(AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
  out.message_id = opt(AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
  out.type = opt(AMQP_BASIC_TYPE_FLAG, p.type);
  out.correlation_id = opt(AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id);
  out.app_id = opt(AMQP_BASIC_APP_ID_FLAG, p.app_id);
  out.expiration = opt(AMQP_BASIC_EXPIRATION_FLAG, p.expiration);
  if (p._flags & AMQP_BASIC_TIMESTAMP_FLAG) out.timestamp = p.timestamp;
  out.delivery_mode = (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) ? p.delivery_mode : 1;
  if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
    for (int i = 0; i < p.headers.num_entries; ++i) {
      out.headers.push_back(
          {str(p.headers.entries[i].key), header_value(p.headers.entries[i].value)});
    }
  }
  return out;
}

AmqpConnection::AmqpConnection() : conn_(amqp_new_connection()) {
  if (!conn_) throw AmqpError("out of memory creating an AMQP connection");
}

AmqpConnection::~AmqpConnection() = default;

void AmqpConnection::check_status(int status, std::string_view what) {
  if (status != AMQP_STATUS_OK) {
    throw AmqpError(std::string(what) + ": " + amqp_error_string2(status));
  }
}

void AmqpConnection::check(const amqp_rpc_reply_t& reply, std::string_view what) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return;
    case AMQP_RESPONSE_NONE:
      throw AmqpError(std::string(what) + ": missing RPC reply");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      throw AmqpError(std::string(what) + ": " + amqp_error_string2(reply.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* m = static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
        amqp_connection_close_ok_t ok{};
        amqp_send_method(conn_.get(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        throw AmqpError(std::string(what) + ": broker closed the connection: " + str(m->reply_text),
                        m->reply_code);
      }
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* m = static_cast<const amqp_channel_close_t*>(reply.reply.decoded);
        throw AmqpError(std::string(what) + ": broker closed the channel: " + str(m->reply_text),
                        m->reply_code);
      }
      throw AmqpError(std::string(what) + ": unexpected broker reply");
  }
}

void AmqpConnection::open(const AmqpEndpoint& ep, int heartbeat_seconds,
                          std::chrono::milliseconds timeout, std::string_view connection_name) {
  amqp_socket_t* socket = amqp_tcp_socket_new(conn_.get());  // owned by the connection
  if (socket == nullptr) throw AmqpError("cannot create a TCP socket");
  timeval tv = to_timeval(timeout);
  check_status(amqp_socket_open_noblock(socket, ep.host.c_str(), ep.port, &tv),
               "connect to " + ep.host + ":" + std::to_string(ep.port));
  amqp_set_handshake_timeout(conn_.get(), &tv);
  amqp_set_rpc_timeout(conn_.get(), &tv);
  // librabbitmq writes with no deadline: a broker that stops acknowledging (a network partition,
  // a frozen host) would hold a publish, and the loop with it, for as long as TCP retransmits
  // (about 15 minutes), and no missed heartbeat could be noticed. The kernel drops such a
  // connection once data went unacknowledged for two heartbeat periods.
  if (heartbeat_seconds > 0) {
    const unsigned int ms = static_cast<unsigned int>(heartbeat_seconds) * 2000U;
    setsockopt(amqp_get_sockfd(conn_.get()), IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms);
  }

  amqp_table_entry_t caps[2];
  caps[0].key = amqp_cstring_bytes("connection.blocked");
  caps[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
  caps[0].value.value.boolean = 1;
  caps[1].key = amqp_cstring_bytes("consumer_cancel_notify");
  caps[1].value.kind = AMQP_FIELD_KIND_BOOLEAN;
  caps[1].value.value.boolean = 1;
  amqp_table_entry_t entries[2];
  entries[0].key = amqp_cstring_bytes("connection_name");
  entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
  entries[0].value.value.bytes = amqp_view(connection_name);
  entries[1].key = amqp_cstring_bytes("capabilities");
  entries[1].value.kind = AMQP_FIELD_KIND_TABLE;
  entries[1].value.value.table = amqp_table_t{2, caps};
  amqp_table_t props{2, entries};
  check(amqp_login_with_properties(conn_.get(), ep.vhost.c_str(), 0, 131072, heartbeat_seconds,
                                   &props, AMQP_SASL_METHOD_PLAIN, ep.user.c_str(),
                                   ep.password.c_str()),
        "login to vhost " + ep.vhost);
}

int AmqpConnection::fd() const { return amqp_get_sockfd(conn_.get()); }

void AmqpConnection::open_channel(uint16_t channel) {
  amqp_channel_open(conn_.get(), channel);
  check(amqp_get_rpc_reply(conn_.get()), "channel.open");
}

void AmqpConnection::close_channel(uint16_t channel) {
  amqp_channel_close(conn_.get(), channel, AMQP_REPLY_SUCCESS);
}

void AmqpConnection::close() { amqp_connection_close(conn_.get(), AMQP_REPLY_SUCCESS); }

void AmqpConnection::confirm_select(uint16_t channel) {
  amqp_confirm_select(conn_.get(), channel);
  check(amqp_get_rpc_reply(conn_.get()), "confirm.select");
}

void AmqpConnection::qos(uint16_t channel, uint16_t prefetch) {
  amqp_basic_qos(conn_.get(), channel, 0, prefetch, 0);
  check(amqp_get_rpc_reply(conn_.get()), "basic.qos");
}

std::string AmqpConnection::consume(uint16_t channel, std::string_view queue) {
  const auto* ok = amqp_basic_consume(conn_.get(), channel, amqp_view(queue), amqp_empty_bytes, 0,
                                      0, 0, amqp_empty_table);
  check(amqp_get_rpc_reply(conn_.get()), "basic.consume on " + std::string(queue));
  return str(ok->consumer_tag);
}

void AmqpConnection::cancel(uint16_t channel, std::string_view consumer_tag) {
  amqp_basic_cancel(conn_.get(), channel, amqp_view(consumer_tag));
  check(amqp_get_rpc_reply(conn_.get()), "basic.cancel");
}

uint32_t AmqpConnection::purge(uint16_t channel, std::string_view queue) {
  const auto* ok = amqp_queue_purge(conn_.get(), channel, amqp_view(queue));
  check(amqp_get_rpc_reply(conn_.get()), "queue.purge " + std::string(queue));
  return ok->message_count;
}

uint32_t AmqpConnection::queue_message_count(uint16_t channel, std::string_view queue) {
  const auto* ok =
      amqp_queue_declare(conn_.get(), channel, amqp_view(queue), 1, 0, 0, 0, amqp_empty_table);
  check(amqp_get_rpc_reply(conn_.get()), "queue.declare(passive) " + std::string(queue));
  return ok->message_count;
}

uint32_t AmqpConnection::queue_consumer_count(uint16_t channel, std::string_view queue) {
  const auto* ok =
      amqp_queue_declare(conn_.get(), channel, amqp_view(queue), 1, 0, 0, 0, amqp_empty_table);
  check(amqp_get_rpc_reply(conn_.get()), "queue.declare(passive) " + std::string(queue));
  return ok->consumer_count;
}

std::optional<Message> AmqpConnection::get(uint16_t channel, std::string_view queue) {
  auto reply = amqp_basic_get(conn_.get(), channel, amqp_view(queue), 0);
  check(reply, "basic.get " + std::string(queue));
  if (reply.reply.id != AMQP_BASIC_GET_OK_METHOD) return std::nullopt;
  const auto* ok = static_cast<const amqp_basic_get_ok_t*>(reply.reply.decoded);
  Message m;
  m.channel = channel;
  m.delivery_tag = ok->delivery_tag;
  m.redelivered = ok->redelivered;
  m.exchange = str(ok->exchange);
  m.routing_key = str(ok->routing_key);
  m.message_count = ok->message_count;
  amqp_message_t raw;
  check(amqp_read_message(conn_.get(), channel, &raw, 0), "read message");
  m.props = copy_properties(raw.properties);
  m.body = str(raw.body);
  amqp_destroy_message(&raw);
  amqp_maybe_release_buffers(conn_.get());
  return m;
}

void AmqpConnection::publish(uint16_t channel, std::string_view exchange,
                             std::string_view routing_key, bool mandatory, const Properties& p,
                             std::string_view body) {
  amqp_basic_properties_t props{};
  auto set = [&](amqp_flags_t flag, amqp_bytes_t& field, const std::optional<std::string>& v) {
    if (v) {
      props._flags |= flag;
      field = amqp_view(*v);
    }
  };
  set(AMQP_BASIC_CONTENT_TYPE_FLAG, props.content_type, p.content_type);
  set(AMQP_BASIC_MESSAGE_ID_FLAG, props.message_id, p.message_id);
  set(AMQP_BASIC_TYPE_FLAG, props.type, p.type);
  set(AMQP_BASIC_CORRELATION_ID_FLAG, props.correlation_id, p.correlation_id);
  set(AMQP_BASIC_APP_ID_FLAG, props.app_id, p.app_id);
  set(AMQP_BASIC_EXPIRATION_FLAG, props.expiration, p.expiration);
  if (p.timestamp) {
    props._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    props.timestamp = *p.timestamp;
  }
  props._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.delivery_mode = p.delivery_mode;
  std::vector<amqp_table_entry_t> entries;
  for (const auto& h : p.headers) {
    if (h.value.complex) continue;
    entries.push_back(amqp_table_entry_t{amqp_view(h.key), field_value(h.value)});
  }
  if (!entries.empty()) {
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers = amqp_table_t{static_cast<int>(entries.size()), entries.data()};
  }
  check_status(amqp_basic_publish(conn_.get(), channel, amqp_view(exchange), amqp_view(routing_key),
                                  mandatory, 0, &props, amqp_view(body)),
               "basic.publish");
}

void AmqpConnection::ack(uint16_t channel, uint64_t tag, bool multiple) {
  check_status(amqp_basic_ack(conn_.get(), channel, tag, multiple), "basic.ack");
}

void AmqpConnection::nack(uint16_t channel, uint64_t tag, bool multiple, bool requeue) {
  check_status(amqp_basic_nack(conn_.get(), channel, tag, multiple, requeue), "basic.nack");
}

void AmqpConnection::reject(uint16_t channel, uint64_t tag, bool requeue) {
  check_status(amqp_basic_reject(conn_.get(), channel, tag, requeue), "basic.reject");
}

bool AmqpConnection::has_buffered() const {
  return amqp_data_in_buffer(conn_.get()) || amqp_frames_enqueued(conn_.get());
}

void AmqpConnection::pump(FrameSink& sink) {
  for (;;) {
    amqp_frame_t frame;
    timeval zero{0, 0};
    const int rc = amqp_simple_wait_frame_noblock(conn_.get(), &frame, &zero);
    if (rc == AMQP_STATUS_TIMEOUT) break;
    check_status(rc, "read from broker");
    handle(frame, sink);
  }
  if (!amqp_frames_enqueued(conn_.get())) amqp_maybe_release_buffers(conn_.get());
}

void AmqpConnection::handle(const amqp_frame_t& frame, FrameSink& sink) {
  const uint16_t ch = frame.channel;
  if (frame.frame_type == AMQP_FRAME_METHOD) {
    const auto& m = frame.payload.method;
    switch (m.id) {
      case AMQP_BASIC_DELIVER_METHOD: {
        const auto* d = static_cast<const amqp_basic_deliver_t*>(m.decoded);
        Pending p;
        p.message.kind = Message::Kind::Delivery;
        p.message.channel = ch;
        p.message.delivery_tag = d->delivery_tag;
        p.message.redelivered = d->redelivered;
        p.message.exchange = str(d->exchange);
        p.message.routing_key = str(d->routing_key);
        pending_[ch] = std::move(p);
        return;
      }
      case AMQP_BASIC_RETURN_METHOD: {
        const auto* r = static_cast<const amqp_basic_return_t*>(m.decoded);
        Pending p;
        p.message.kind = Message::Kind::Return;
        p.message.channel = ch;
        p.message.reply_code = r->reply_code;
        p.message.reply_text = str(r->reply_text);
        p.message.exchange = str(r->exchange);
        p.message.routing_key = str(r->routing_key);
        pending_[ch] = std::move(p);
        return;
      }
      case AMQP_CONNECTION_CLOSE_METHOD: {
        const auto* c = static_cast<const amqp_connection_close_t*>(m.decoded);
        amqp_connection_close_ok_t ok{};
        amqp_send_method(conn_.get(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        throw AmqpError("broker closed the connection: " + str(c->reply_text), c->reply_code);
      }
      case AMQP_CHANNEL_CLOSE_METHOD: {
        const auto* c = static_cast<const amqp_channel_close_t*>(m.decoded);
        throw AmqpError("broker closed channel " + std::to_string(ch) + ": " + str(c->reply_text),
                        c->reply_code);
      }
      default:
        sink.on_method(ch, m.id, m.decoded);
        return;
    }
  }
  auto it = pending_.find(ch);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  if (frame.frame_type == AMQP_FRAME_HEADER) {
    p.have_header = true;
    p.body_size = frame.payload.properties.body_size;
    p.message.props = copy_properties(
        *static_cast<const amqp_basic_properties_t*>(frame.payload.properties.decoded));
    p.message.body.reserve(p.body_size);
  } else if (frame.frame_type == AMQP_FRAME_BODY && p.have_header) {
    const auto& f = frame.payload.body_fragment;
    p.message.body.append(static_cast<const char*>(f.bytes), f.len);
  }
  if (p.have_header && p.message.body.size() >= p.body_size) {
    Message done = std::move(p.message);
    pending_.erase(it);
    sink.on_message(std::move(done));
  }
}

}  // namespace offers
