#pragma once

#include <pistache/http.h>
#include <pistache/peer.h>
#include <pistache/router.h>
#include <pistache/transport.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "shared/http/http_framing.hpp"

namespace offers {

struct HttpEdgeSettings {
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
  HttpLimits limits;
};

// Pistache 0.0.5 drops raw response headers, so X-Request-Id is a typed header.
class RequestIdHeader : public Pistache::Http::Header::Header {
 public:
  NAME("X-Request-Id")
  RequestIdHeader() = default;
  explicit RequestIdHeader(std::string value) : value_(std::move(value)) {}
  void parse(const std::string& data) override { value_ = data; }
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string value_;
};

std::string new_request_id();

// Sends a reply; when it says `Connection: close` the connection is closed once it is written.
// Every reply goes through here. Throws like ResponseWriter::send when the client is gone.
void send_reply(Pistache::Http::ResponseWriter& writer, Pistache::Http::Code code,
                const std::string& body);

// The HTTP side of Pistache's handler interface: hands each request, once the connection's
// transport has framed and checked it, to the router.
class EdgeHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(EdgeHandler)

  explicit EdgeHandler(Pistache::Rest::Router* router) : router_(router) {}
  void onRequest(const Pistache::Http::Request& request,
                 Pistache::Http::ResponseWriter response) override;

 private:
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;

  Pistache::Rest::Router* router_;
};

struct EdgeConnection;

// A file descriptor, closed by its owner.
class OwnedFd {
 public:
  OwnedFd() = default;
  ~OwnedFd() { reset(); }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// One reactor thread's connections: frames requests before Pistache parses them (so malformed
// and oversized ones get a JSON 4xx and a close), keeps connections per HTTP/1.1, closes them
// after a reply that says `Connection: close`, after HTTP_IDLE_TIMEOUT without a request, and
// answers 408 to a request that does not arrive within HTTP_REQUEST_TIMEOUT. Everything here
// runs on the transport's own thread; replies sent from other threads report back through a
// mailbox.
class EdgeTransport : public Pistache::Tcp::Transport {
 public:
  EdgeTransport(std::shared_ptr<EdgeHandler> handler, HttpEdgeSettings settings);

  void registerPoller(Pistache::Polling::Epoll& poller) override;
  void onReady(const Pistache::Aio::FdSet& fds) override;
  std::shared_ptr<Pistache::Aio::Handler> clone() const override;

  void on_connection(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  void on_input(const std::shared_ptr<Pistache::Tcp::Peer>& peer, const char* data, size_t len);
  // From any thread: the reply to the request in flight on peer has been written (or failed).
  void reply_done(const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool close);

 private:
  void finish_reply(const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool close);
  void process(const std::shared_ptr<Pistache::Tcp::Peer>& peer, EdgeConnection& c);
  void dispatch(const std::shared_ptr<Pistache::Tcp::Peer>& peer, EdgeConnection& c,
                const RequestFrame& frame);
  void reject(const std::shared_ptr<Pistache::Tcp::Peer>& peer, EdgeConnection& c, int status,
              const std::string& error, const std::string& request_id);
  void sweep();
  void drain_mailbox();
  bool owns(const std::shared_ptr<Pistache::Tcp::Peer>& peer) const;

  std::shared_ptr<EdgeHandler> handler_;
  HttpEdgeSettings settings_;
  OwnedFd timer_fd_;
  OwnedFd mailbox_fd_;
  std::mutex mailbox_mutex_;
  std::vector<std::pair<std::weak_ptr<Pistache::Tcp::Peer>, bool>> mailbox_;
};

}  // namespace offers
