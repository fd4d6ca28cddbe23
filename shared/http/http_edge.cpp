#include "shared/http/http_edge.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>
#include <system_error>
#include <thread>

#include "shared/common/json.hpp"
#include "shared/common/log.hpp"

namespace offers {

using Clock = std::chrono::steady_clock;
using Pistache::Http::Code;
using Pistache::Http::ConnectionControl;
using Pistache::Http::ResponseWriter;
using Pistache::Tcp::Peer;

namespace {

constexpr const char* kConnectionData = "offers.edge";
// How long a closed-for-writing connection waits for the client's own close, and how long a
// reply that should end the connection may take to be written, before the socket is dropped.
constexpr auto kLinger = std::chrono::seconds(2);
constexpr auto kStuckReply = std::chrono::seconds(10);

}  // namespace

// Per connection, owned by its Pistache peer; read and written on the transport's thread only
// (transport is set once, before any request, and may be read anywhere).
struct EdgeConnection {
  EdgeTransport* transport = nullptr;
  std::string pending;  // bytes received and not yet handed over as a request
  Clock::time_point request_started{};
  Clock::time_point last_active{};
  Clock::time_point closing_since{};
  bool in_flight = false;  // a request was dispatched and its reply is not written yet
  bool closing = false;    // no more requests: a reply with `Connection: close` is on its way
  bool shut = false;       // that reply was written and our side is shut down
  // When the sweep first saw a reply sent without send_reply (Pistache marks the peer idle).
  Clock::time_point sent_unreported{};
};

namespace {

std::shared_ptr<EdgeConnection> connection_of(const std::shared_ptr<Peer>& peer) {
  return std::static_pointer_cast<EdgeConnection>(peer->tryGetData(kConnectionData));
}

void report_reply(const std::weak_ptr<Peer>& weak, bool close) {
  const auto peer = weak.lock();
  if (!peer) return;
  if (const auto c = connection_of(peer)) c->transport->reply_done(peer, close);
}

int make_fd(int fd, const char* what) {
  if (fd < 0) throw std::system_error(errno, std::generic_category(), what);
  return fd;
}

}  // namespace

void OwnedFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string new_request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

void send_reply(ResponseWriter& writer, Code code, const std::string& body) {
  const auto connection = writer.headers().tryGet<Pistache::Http::Header::Connection>();
  const bool close = connection && connection->control() == ConnectionControl::Close;
  std::weak_ptr<Peer> peer;
  try {
    peer = writer.peer();
  } catch (const std::runtime_error&) {
    // The client is gone: send below fails the same way.
  }
  writer.send(code, body)
      .then([peer, close](ssize_t) { report_reply(peer, close); },
            [peer](std::exception_ptr) { report_reply(peer, true); });
}

void EdgeHandler::onRequest(const Pistache::Http::Request& request, ResponseWriter response) {
  router_->route(request, std::move(response));
}

void EdgeHandler::onConnection(const std::shared_ptr<Peer>& peer) {
  static_cast<EdgeTransport*>(transport())->on_connection(peer);
}

void EdgeHandler::onInput(const char* buffer, size_t len, const std::shared_ptr<Peer>& peer) {
  static_cast<EdgeTransport*>(transport())->on_input(peer, buffer, len);
}

EdgeTransport::EdgeTransport(std::shared_ptr<EdgeHandler> handler, HttpEdgeSettings settings)
    : Pistache::Tcp::Transport(handler), handler_(std::move(handler)), settings_(settings) {}

std::shared_ptr<Pistache::Aio::Handler> EdgeTransport::clone() const {
  return std::make_shared<EdgeTransport>(std::static_pointer_cast<EdgeHandler>(handler_->clone()),
                                         settings_);
}

void EdgeTransport::registerPoller(Pistache::Polling::Epoll& poller) {
  Transport::registerPoller(poller);
  using Pistache::Polling::NotifyOn;
  using Pistache::Polling::Tag;
  timer_fd_.reset(make_fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd"));
  // A quarter of the shortest timeout, so a connection is closed at most 25% late.
  const auto tick = std::clamp(std::min(settings_.idle_timeout, settings_.request_timeout) / 4,
                               std::chrono::milliseconds(20), std::chrono::milliseconds(500));
  itimerspec spec{};
  spec.it_interval.tv_sec = tick.count() / 1000;
  spec.it_interval.tv_nsec = (tick.count() % 1000) * 1000000;
  spec.it_value = spec.it_interval;
  if (timerfd_settime(timer_fd_.get(), 0, &spec, nullptr) != 0)
    throw std::system_error(errno, std::generic_category(), "timerfd_settime");
  poller.addFd(timer_fd_.get(), Pistache::Flags<NotifyOn>(NotifyOn::Read), Tag(timer_fd_.get()));
  mailbox_fd_.reset(make_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd"));
  poller.addFd(mailbox_fd_.get(), Pistache::Flags<NotifyOn>(NotifyOn::Read),
               Tag(mailbox_fd_.get()));
}

void EdgeTransport::onReady(const Pistache::Aio::FdSet& fds) {
  for (const auto& entry : fds) {
    uint64_t count = 0;
    if (entry.getTag() == Pistache::Polling::Tag(timer_fd_.get())) {
      if (::read(timer_fd_.get(), &count, sizeof count) > 0) sweep();
    } else if (entry.getTag() == Pistache::Polling::Tag(mailbox_fd_.get())) {
      if (::read(mailbox_fd_.get(), &count, sizeof count) > 0) drain_mailbox();
    }
  }
  Transport::onReady(fds);
}

bool EdgeTransport::owns(const std::shared_ptr<Peer>& peer) const {
  const auto it = peers.find(peer->fd());
  return it != peers.end() && it->second == peer;
}

void EdgeTransport::on_connection(const std::shared_ptr<Peer>& peer) {
  auto c = std::make_shared<EdgeConnection>();
  c->transport = this;
  c->last_active = Clock::now();
  peer->putData(kConnectionData, c);
  peer->putData(Pistache::Http::Handler::ParserData,
                std::make_shared<Pistache::Http::RequestParser>(settings_.limits.max_head_bytes +
                                                                settings_.limits.max_body_bytes));
}

void EdgeTransport::on_input(const std::shared_ptr<Peer>& peer, const char* data, size_t len) {
  const auto c = connection_of(peer);
  if (!c || c->closing) return;  // after a final reply, what the client still sends is dropped
  if (c->pending.empty() && !c->in_flight) c->request_started = Clock::now();
  c->pending.append(data, len);
  process(peer, *c);
}

void EdgeTransport::process(const std::shared_ptr<Peer>& peer, EdgeConnection& c) {
  const size_t most = settings_.limits.max_head_bytes + settings_.limits.max_body_bytes;
  while (!c.in_flight && !c.closing && !c.pending.empty()) {
    const auto frame = frame_request(c.pending, settings_.limits);
    if (frame.state == RequestFrame::State::Reject)
      return reject(peer, c, frame.status, frame.error, frame.request_id);
    if (frame.state == RequestFrame::State::NeedMore) return;
    dispatch(peer, c, frame);
  }
  // Requests sent ahead of their turn wait; a client that sends far more without reading is cut.
  if (c.in_flight && c.pending.size() > most) {
    c.closing = true;
    ::shutdown(peer->fd(), SHUT_RDWR);
  }
}

void EdgeTransport::dispatch(const std::shared_ptr<Peer>& peer, EdgeConnection& c,
                             const RequestFrame& frame) {
  auto parser = Pistache::Http::Handler::getParser(peer);
  parser->reset();
  bool parsed = false;
  try {
    parsed = parser->feed(c.pending.data(), frame.total()) &&
             parser->parse() == Pistache::Http::Private::State::Done;
  } catch (const std::exception&) {
    parsed = false;  // a header value Pistache's typed headers refuse
  }
  c.pending.erase(0, frame.total());
  if (!parsed) return reject(peer, c, 400, "malformed request", frame.request_id);

  Pistache::Http::Request request = parser->request;
  parser->reset();
  request.copyAddress(peer->address());
  ResponseWriter writer(request.version(), this, handler_.get(), peer);
  if (!frame.keep_alive) {
    writer.headers().add<Pistache::Http::Header::Connection>(ConnectionControl::Close);
    c.closing = true;
  } else if (frame.http10) {
    writer.headers().add<Pistache::Http::Header::Connection>(ConnectionControl::KeepAlive);
  }
  c.in_flight = true;
  c.sent_unreported = {};
  peer->setIdle(false);
  if (c.closing) c.closing_since = Clock::now();
  if (!c.pending.empty()) c.request_started = Clock::now();
  try {
    handler_->onRequest(request, std::move(writer));
  } catch (const std::exception& e) {
    log_error("request not routed", {{"error", e.what()}});
    c.closing = true;
    ::shutdown(peer->fd(), SHUT_RDWR);
  }
}

void EdgeTransport::reject(const std::shared_ptr<Peer>& peer, EdgeConnection& c, int status,
                           const std::string& error, const std::string& request_id) {
  c.closing = true;
  c.in_flight = true;
  c.closing_since = Clock::now();
  c.pending.clear();
  ResponseWriter writer(Pistache::Http::Version::Http11, this, handler_.get(), peer);
  writer.headers().add(
      std::make_shared<RequestIdHeader>(request_id.empty() ? new_request_id() : request_id));
  writer.headers().add<Pistache::Http::Header::Connection>(ConnectionControl::Close);
  writer.headers().add<Pistache::Http::Header::ContentType>(MIME(Application, Json));
  send_reply(writer, static_cast<Code>(status), error_body(error));
}

void EdgeTransport::reply_done(const std::shared_ptr<Peer>& peer, bool close) {
  if (std::this_thread::get_id() == context().thread()) return finish_reply(peer, close);
  {
    std::lock_guard lock(mailbox_mutex_);
    mailbox_.emplace_back(peer, close);
  }
  const uint64_t one = 1;
  if (::write(mailbox_fd_.get(), &one, sizeof one) < 0) {
    // The counter is far from full; nothing to do but let the next tick's sweep notice.
  }
}

void EdgeTransport::drain_mailbox() {
  std::vector<std::pair<std::weak_ptr<Peer>, bool>> done;
  {
    std::lock_guard lock(mailbox_mutex_);
    done.swap(mailbox_);
  }
  for (const auto& [weak, close] : done)
    if (const auto peer = weak.lock()) finish_reply(peer, close);
}

void EdgeTransport::finish_reply(const std::shared_ptr<Peer>& peer, bool close) {
  const auto c = connection_of(peer);
  if (!c || !owns(peer) || !c->in_flight) return;
  c->in_flight = false;
  c->last_active = Clock::now();
  if (close || c->closing) {
    c->closing = true;
    c->shut = true;
    c->closing_since = c->last_active;
    ::shutdown(peer->fd(), SHUT_WR);
    return;
  }
  if (!c->pending.empty()) {
    c->request_started = c->last_active;
    process(peer, *c);
  }
}

void EdgeTransport::sweep() {
  const auto now = Clock::now();
  std::vector<std::shared_ptr<Peer>> drop, late, unreported;
  for (const auto& [fd, peer] : peers) {
    const auto c = connection_of(peer);
    if (!c) continue;
    if (c->shut) {
      if (now - c->closing_since > kLinger) drop.push_back(peer);
    } else if (c->in_flight) {
      if (c->closing && now - c->closing_since > kStuckReply) drop.push_back(peer);
      // A reply sent past send_reply never reports back: a tick after Pistache marked the peer
      // idle (its write is queued by then), the connection takes requests again.
      if (!c->closing && peer->isIdle()) {
        if (c->sent_unreported == Clock::time_point{}) {
          c->sent_unreported = now;
        } else {
          unreported.push_back(peer);
        }
      }
    } else if (c->closing) {
      drop.push_back(peer);
    } else if (!c->pending.empty()) {
      if (now - c->request_started > settings_.request_timeout) late.push_back(peer);
    } else if (now - c->last_active > settings_.idle_timeout) {
      drop.push_back(peer);
    }
  }
  for (const auto& peer : unreported) finish_reply(peer, false);
  for (const auto& peer : late)
    reject(peer, *connection_of(peer), 408, "request not received in time", "");
  for (const auto& peer : drop) removePeer(peer);
}

}  // namespace offers
