#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace offers {

struct HttpLimits {
  size_t max_head_bytes = 16 * 1024;  // request line and headers
  size_t max_headers = 100;
  size_t max_body_bytes = 64 * 1024;
};

// What the bytes received so far on a connection say about the request they start with. A
// request is checked before any of it reaches Pistache's parser, which answers some malformed
// requests with internal exception text and waits forever on others.
struct RequestFrame {
  enum class State { NeedMore, Complete, Reject };
  State state = State::NeedMore;
  bool head_complete = false;
  size_t head_bytes = 0;  // request line, headers and the empty line
  size_t body_bytes = 0;  // from Content-Length
  bool keep_alive = true;
  bool http10 = false;
  int status = 0;          // when Reject: 400, 411, 413, 431 or 505
  std::string error;       // when Reject: what is wrong, for {"error": ...}
  std::string request_id;  // the X-Request-Id header, when seen (at most 200 characters)

  size_t total() const { return head_bytes + body_bytes; }
};

// Frames the request at the start of bytes: NeedMore until its head and body are all there,
// Complete with their sizes, or Reject as soon as what is there cannot become a valid request.
RequestFrame frame_request(std::string_view bytes, const HttpLimits& limits);

}  // namespace offers
