#include "shared/http/http_client.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace offers {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
// A feed page holds at most EVENTS_PAGE_LIMIT events; this bounds what one reply may take.
constexpr size_t kMaxBodyBytes = 256 * 1024 * 1024;
constexpr int kPollSliceMs = 100;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

// The connection's file descriptor, closed in one place.
class HttpClient::Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::string HttpReply::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

HttpClient::HttpClient(HttpEndpoint endpoint, std::chrono::milliseconds timeout,
                       std::function<bool()> cancelled)
    : endpoint_(std::move(endpoint)), timeout_(timeout), cancelled_(std::move(cancelled)) {}

HttpClient::~HttpClient() = default;

void HttpClient::connect() {
  socket_.reset();
  buffer_.clear();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint_.port);
  if (const int rc = getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    throw HttpError("cannot resolve " + endpoint_.host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  std::string error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    auto sock = std::make_unique<Socket>(fd);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      error = std::strerror(errno);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    while (::poll(&p, 1, kPollSliceMs) == 0) {
      if ((cancelled_ && cancelled_()) || std::chrono::steady_clock::now() > deadline_) {
        throw HttpError("connecting to " + endpoint_.url() + " timed out");
      }
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
      error = std::strerror(so_error);
      continue;
    }
    socket_ = std::move(sock);
    return;
  }
  throw HttpError("cannot connect to " + endpoint_.url() + ": " + error);
}

void HttpClient::send_all(const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(socket_->fd(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      throw HttpError(std::string("sending failed: ") + std::strerror(errno));
    }
    pollfd p{socket_->fd(), POLLOUT, 0};
    ::poll(&p, 1, kPollSliceMs);
    if ((cancelled_ && cancelled_()) || std::chrono::steady_clock::now() > deadline_) {
      throw HttpError("sending to " + endpoint_.url() + " timed out");
    }
  }
}

bool HttpClient::receive() {
  char chunk[64 * 1024];
  for (;;) {
    const ssize_t n = ::recv(socket_->fd(), chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno != EAGAIN && errno != EINTR) {
      throw HttpError(std::string("receiving failed: ") + std::strerror(errno));
    }
    pollfd p{socket_->fd(), POLLIN, 0};
    ::poll(&p, 1, kPollSliceMs);
    if ((cancelled_ && cancelled_()) || std::chrono::steady_clock::now() > deadline_) {
      throw HttpError("no answer from " + endpoint_.url() + " in time");
    }
  }
}

std::string HttpClient::read_chunked() {
  std::string body;
  for (;;) {
    size_t eol;
    while ((eol = buffer_.find("\r\n")) == std::string::npos) {
      if (!receive()) throw HttpError("connection closed inside a chunked body");
    }
    const size_t size = std::strtoul(buffer_.substr(0, eol).c_str(), nullptr, 16);
    buffer_.erase(0, eol + 2);
    if (body.size() + size > kMaxBodyBytes) throw HttpError("reply body too large");
    while (buffer_.size() < size + 2) {
      if (!receive()) throw HttpError("connection closed inside a chunked body");
    }
    body.append(buffer_, 0, size);
    buffer_.erase(0, size + 2);
    if (size == 0) return body;  // no trailers expected
  }
}

HttpReply HttpClient::read_reply() {
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (buffer_.size() > kMaxHeaderBytes) throw HttpError("reply headers too large");
    if (!receive()) throw HttpError("connection closed before a reply");
  }
  HttpReply reply;
  const std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    throw HttpError("not an HTTP reply: " + status_line.substr(0, 80));
  }
  reply.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    reply.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  if (lower(reply.header("transfer-encoding")) == "chunked") {
    reply.body = read_chunked();
  } else if (const std::string length = reply.header("content-length"); !length.empty()) {
    const size_t n = std::strtoull(length.c_str(), nullptr, 10);
    if (n > kMaxBodyBytes) throw HttpError("reply body too large");
    while (buffer_.size() < n) {
      if (!receive()) throw HttpError("connection closed inside the reply body");
    }
    reply.body = buffer_.substr(0, n);
    buffer_.erase(0, n);
  } else if (reply.status != 204 && reply.status != 304) {
    while (receive()) {
      if (buffer_.size() > kMaxBodyBytes) throw HttpError("reply body too large");
    }
    reply.body = std::move(buffer_);
    buffer_.clear();
    socket_.reset();
  }
  if (lower(reply.header("connection")) == "close") socket_.reset();
  return reply;
}

HttpReply HttpClient::exchange(const std::string& target) {
  send_all("GET " + target + " HTTP/1.1\r\nHost: " + endpoint_.host + ":" +
           std::to_string(endpoint_.port) + "\r\nAccept: application/json\r\n\r\n");
  return read_reply();
}

HttpReply HttpClient::get(const std::string& target) {
  deadline_ = std::chrono::steady_clock::now() + timeout_;
  if (socket_) {
    // The server may have closed the kept connection while it was idle: one more try on a new one.
    try {
      return exchange(target);
    } catch (const HttpError&) {
      socket_.reset();
      if ((cancelled_ && cancelled_()) || std::chrono::steady_clock::now() > deadline_) throw;
    }
  }
  try {
    connect();
    return exchange(target);
  } catch (const HttpError&) {
    socket_.reset();
    throw;
  }
}

std::optional<std::string> link_target(const std::string& link_header, const std::string& rel) {
  size_t pos = 0;
  while ((pos = link_header.find('<', pos)) != std::string::npos) {
    const size_t close = link_header.find('>', pos);
    if (close == std::string::npos) return std::nullopt;
    const std::string target = link_header.substr(pos + 1, close - pos - 1);
    const size_t next = link_header.find(',', close);
    const std::string params = link_header.substr(
        close + 1, next == std::string::npos ? std::string::npos : next - close - 1);
    if (params.find("rel=\"" + rel + "\"") != std::string::npos ||
        params.find("rel=" + rel) != std::string::npos) {
      return target;
    }
    pos = close;
  }
  return std::nullopt;
}

}  // namespace offers
