#pragma once

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

inline HttpResponse http_get(int port, const std::string& path) {
  return http_request(port, "GET", path);
}

}  // namespace offers::test
