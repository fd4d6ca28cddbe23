#include "tests/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace offers::test {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v =
        (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = (unsigned char)in[i] << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

}  // namespace

int connect_loopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

namespace {

std::string format_request(const std::string& method, const std::string& path,
                           const std::string& body,
                           const std::map<std::string, std::string>& headers,
                           const std::string& basic_auth, bool keep_alive) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  req += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!basic_auth.empty()) req += "Authorization: Basic " + base64(basic_auth) + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return req + "\r\n" + body;
}

bool send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Whether raw holds a whole response: the head, then Content-Length bytes or the last chunk.
bool complete(const std::string& raw) {
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  const std::string head = lower(raw.substr(0, head_end));
  const auto cl = head.find("content-length:");
  if (cl != std::string::npos) return raw.size() >= head_end + 4 + std::stoul(head.substr(cl + 15));
  if (head.find("chunked") != std::string::npos) {
    return raw.find("\r\n0\r\n\r\n", head_end) != std::string::npos ||
           raw.compare(head_end + 4, 5, "0\r\n\r\n") == 0;
  }
  return false;  // the body ends when the connection does
}

// Reads one response; false when the connection ended before a complete one.
bool read_response(int fd, std::string& raw) {
  char buf[65536];
  while (!complete(raw)) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return raw.find("\r\n\r\n") != std::string::npos;
    raw.append(buf, static_cast<size_t>(n));
  }
  return true;
}

HttpResponse parse_response(const std::string& raw) {
  HttpResponse r;
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || head_end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  size_t pos = raw.find("\r\n") + 2;
  while (pos < head_end) {
    const auto eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(' '));
      r.headers[lower(line.substr(0, colon))] = v;
    }
    pos = eol + 2;
  }
  r.body = raw.substr(head_end + 4);
  if (lower(r.header("transfer-encoding")) == "chunked") {
    std::string decoded;
    size_t at = 0;
    while (at < r.body.size()) {
      const auto eol = r.body.find("\r\n", at);
      if (eol == std::string::npos) break;
      const size_t len = std::stoul(r.body.substr(at, eol - at), nullptr, 16);
      if (len == 0) break;
      decoded += r.body.substr(eol + 2, len);
      at = eol + 2 + len + 2;
    }
    r.body = decoded;
    return r;
  }
  if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
    r.body.resize(std::min(r.body.size(), static_cast<size_t>(std::stoul(it->second))));
  }
  return r;
}

void set_timeouts(int fd) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

HttpResponse http_request(int port, const std::string& method, const std::string& path,
                          const std::string& body,
                          const std::map<std::string, std::string>& headers,
                          const std::string& basic_auth) {
  const int fd = connect_loopback(port);
  if (fd < 0) return {};
  set_timeouts(fd);
  std::string raw;
  if (send_all(fd, format_request(method, path, body, headers, basic_auth, false))) {
    read_response(fd, raw);
  }
  close(fd);
  return parse_response(raw);
}

HttpConnection::~HttpConnection() { drop(); }

void HttpConnection::drop() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

HttpResponse HttpConnection::request(const std::string& method, const std::string& path,
                                     const std::string& body,
                                     const std::map<std::string, std::string>& headers) {
  const std::string req = format_request(method, path, body, headers, "", true);
  // A kept connection the server has meanwhile closed fails at once: one more try on a new one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = fd_ >= 0;
    if (fd_ < 0) {
      fd_ = connect_loopback(port_);
      if (fd_ < 0) return {};
      set_timeouts(fd_);
    }
    std::string raw;
    if (send_all(fd_, req) && read_response(fd_, raw)) {
      HttpResponse r = parse_response(raw);
      if (lower(r.header("connection")) == "close") drop();
      return r;
    }
    drop();
    if (!reused) break;
  }
  return {};
}

}  // namespace offers::test

namespace offers::test {

RawHttpConnection::RawHttpConnection(int port) : fd_(connect_loopback(port)) {}

RawHttpConnection::~RawHttpConnection() {
  if (fd_ >= 0) close(fd_);
}

bool RawHttpConnection::send(const std::string& bytes) { return fd_ >= 0 && send_all(fd_, bytes); }

bool RawHttpConnection::fill(std::chrono::steady_clock::time_point until) {
  if (fd_ < 0 || ended_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      until - std::chrono::steady_clock::now());
  if (left.count() <= 0) return true;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return true;
  char buf[65536];
  const ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
  if (n > 0) {
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  ended_ = true;
  return false;
}

HttpResponse RawHttpConnection::response(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!complete(buffer_) && std::chrono::steady_clock::now() < until && fill(until)) {
  }
  if (!complete(buffer_)) return {};
  HttpResponse r = parse_response(buffer_);
  buffer_.erase(0, buffer_.find("\r\n\r\n") + 4 + r.body.size());
  return r;
}

bool RawHttpConnection::closed_by_server(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until && fill(until)) {
  }
  return ended_;
}

}  // namespace offers::test
