#include "shared/http/http_framing.hpp"

#include <cstring>

namespace offers {
namespace {

constexpr size_t kMaxMethodBytes = 16;
constexpr size_t kMaxLengthDigits = 18;  // fits int64 whatever the digits

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

RequestFrame reject(int status, std::string error) {
  RequestFrame f;
  f.state = RequestFrame::State::Reject;
  f.status = status;
  f.error = std::move(error);
  return f;
}

RequestFrame head_too_large() { return reject(431, "request headers are too large"); }

// METHOD SP origin-form SP HTTP/1.x, without its CRLF.
RequestFrame check_request_line(std::string_view line, RequestFrame& frame) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return reject(400, "malformed request line");
  const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target.front() != '/') return reject(400, "malformed request target");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return reject(400, "malformed request target");
  const auto version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1") return frame;
  if (version == "HTTP/1.0") {
    frame.http10 = true;
    return frame;
  }
  if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && is_digit(version[5]) &&
      version[6] == '.' && is_digit(version[7]))
    return reject(505, "HTTP version not supported");
  return reject(400, "malformed request line");
}

}  // namespace

RequestFrame frame_request(std::string_view bytes, const HttpLimits& limits) {
  RequestFrame frame;
  size_t method = 0;
  while (method < bytes.size() && is_tchar(bytes[method])) ++method;
  if (method > kMaxMethodBytes || (method < bytes.size() && (method == 0 || bytes[method] != ' ')))
    return reject(400, "malformed request line");

  const auto line_end = bytes.find('\n');
  if (line_end == std::string_view::npos)
    return bytes.size() > limits.max_head_bytes ? head_too_large() : frame;
  if (line_end + 1 > limits.max_head_bytes) return head_too_large();
  if (line_end == 0 || bytes[line_end - 1] != '\r') return reject(400, "malformed request line");
  frame = check_request_line(bytes.substr(0, line_end - 1), frame);
  if (frame.state == RequestFrame::State::Reject) return frame;

  bool close = false, keep_alive = false, has_length = false;
  size_t length = 0, headers = 0, pos = line_end + 1;
  for (;;) {
    const auto nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos)
      return bytes.size() > limits.max_head_bytes ? head_too_large() : frame;
    if (nl + 1 > limits.max_head_bytes) return head_too_large();
    if (nl == pos || bytes[nl - 1] != '\r') return reject(400, "malformed header");
    const auto line = bytes.substr(pos, nl - 1 - pos);
    pos = nl + 1;
    if (line.empty()) break;
    if (++headers > limits.max_headers) return reject(431, "too many request headers");
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return reject(400, "malformed header");
    const auto name = line.substr(0, colon);
    for (char c : name)
      if (!is_tchar(c)) return reject(400, "malformed header");
    const auto value = trim(line.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return reject(400, "malformed header");

    if (iequals(name, "content-length")) {
      if (value.empty() || value.size() > kMaxLengthDigits)
        return reject(400, "Content-Length must be a non-negative integer");
      size_t n = 0;
      for (char c : value) {
        if (!is_digit(c)) return reject(400, "Content-Length must be a non-negative integer");
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      if (has_length && n != length) return reject(400, "conflicting Content-Length headers");
      has_length = true;
      length = n;
    } else if (iequals(name, "transfer-encoding")) {
      return reject(411,
                    "a request body needs Content-Length (Transfer-Encoding is not supported)");
    } else if (iequals(name, "connection")) {
      auto rest = value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        const auto token = trim(rest.substr(0, comma));
        if (iequals(token, "close")) close = true;
        if (iequals(token, "keep-alive")) keep_alive = true;
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    }
  }

  frame.head_complete = true;
  frame.head_bytes = pos;
  frame.body_bytes = length;
  frame.keep_alive = frame.http10 ? keep_alive && !close : !close;
  if (length > limits.max_body_bytes) {
    auto r =
        reject(413, "body is larger than " + std::to_string(limits.max_body_bytes / 1024) + " KiB");
    r.head_complete = true;
    return r;
  }
  if (bytes.size() >= frame.total()) frame.state = RequestFrame::State::Complete;
  return frame;
}

}  // namespace offers
