#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace offers {

// A header value. Tables and arrays (such as x-death) are kept as their JSON rendering and are
// shown, but not copied when a message is republished.
struct HeaderValue {
  std::variant<bool, int64_t, double, std::string> value;
  bool complex = false;  // rendered from a table or array
};

struct Header {
  std::string key;
  HeaderValue value;
};

struct Properties {
  std::optional<std::string> content_type;
  std::optional<std::string> message_id;
  std::optional<std::string> type;
  std::optional<std::string> correlation_id;
  std::optional<std::string> app_id;
  std::optional<std::string> expiration;
  std::optional<uint64_t> timestamp;
  uint8_t delivery_mode = 2;
  std::vector<Header> headers;

  const HeaderValue* header(std::string_view key) const;
  std::optional<int64_t> int_header(std::string_view key) const;
  std::optional<std::string> string_header(std::string_view key) const;
  void set_header(std::string key, HeaderValue value);
};

// A delivery (basic.deliver or basic.get-ok) or a returned message (basic.return).
struct Message {
  enum class Kind { Delivery, Return };
  Kind kind = Kind::Delivery;
  uint16_t channel = 0;
  uint64_t delivery_tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  uint16_t reply_code = 0;     // returns only
  std::string reply_text;      // returns only
  uint64_t message_count = 0;  // basic.get-ok only
  Properties props;
  std::string body;
};

// JSON rendering of a header value, for display.
std::string header_value_json(const HeaderValue& v);

}  // namespace offers
