#pragma once

#include <chrono>
#include <map>
#include <string>

namespace offers::test {

struct HttpResponse {
  int status = 0;                              // 0: no connection
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const;
};

// A TCP connection to 127.0.0.1:port, or -1.
int connect_loopback(int port);

// A blocking HTTP/1.1 client for tests: one request per connection to 127.0.0.1.
HttpResponse http_request(int port, const std::string& method, const std::string& path,
                          const std::string& body = "",
                          const std::map<std::string, std::string>& headers = {},
                          const std::string& basic_auth = "");

// A kept-alive HTTP/1.1 connection to 127.0.0.1:port, opened on first use and again after the
// server closes it. A request on a kept connection that gets no response at all is sent once
// more on a new connection (the server may have closed the idle one as the request left).
class HttpConnection {
 public:
  explicit HttpConnection(int port) : port_(port) {}
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  HttpResponse request(const std::string& method, const std::string& path,
                       const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {});

 private:
  void drop();
  int port_;
  int fd_ = -1;
};

// A raw socket to 127.0.0.1:port, for tests of the HTTP edge: sends any bytes, reads replies
// one at a time, and tells whether the server closed the connection.
class RawHttpConnection {
 public:
  explicit RawHttpConnection(int port);
  ~RawHttpConnection();
  RawHttpConnection(const RawHttpConnection&) = delete;
  RawHttpConnection& operator=(const RawHttpConnection&) = delete;
  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // The next response with a Content-Length; status 0 when none came before the deadline or the
  // end of the connection.
  HttpResponse response(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  // Whether the server ended the connection (end of stream or reset) within the deadline.
  bool closed_by_server(std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  // Reads what arrives within the deadline; false at the end of the connection.
  bool fill(std::chrono::steady_clock::time_point until);
  int fd_;
  bool ended_ = false;
  std::string buffer_;
};

inline HttpResponse http_get(int port, const std::string& path) {
  return http_request(port, "GET", path);
}

}  // namespace offers::test
