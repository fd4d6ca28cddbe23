#include "shared/amqp/amqp_message.hpp"

#include <cstdio>

#include "shared/common/json.hpp"

namespace offers {

const HeaderValue* Properties::header(std::string_view key) const {
  for (const auto& h : headers) {
    if (h.key == key) return &h.value;
  }
  return nullptr;
}

std::optional<int64_t> Properties::int_header(std::string_view key) const {
  const auto* v = header(key);
  if (v == nullptr) return std::nullopt;
  if (const auto* i = std::get_if<int64_t>(&v->value)) return *i;
  if (const auto* s = std::get_if<std::string>(&v->value)) {
    try {
      return std::stoll(*s);
    } catch (...) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::string> Properties::string_header(std::string_view key) const {
  const auto* v = header(key);
  if (v == nullptr) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(&v->value)) return *s;
  return std::nullopt;
}

void Properties::set_header(std::string key, HeaderValue value) {
  for (auto& h : headers) {
    if (h.key == key) {
      h.value = std::move(value);
      return;
    }
  }
  headers.push_back({std::move(key), std::move(value)});
}

std::string header_value_json(const HeaderValue& v) {
  if (v.complex) return std::get<std::string>(v.value);
  if (const auto* b = std::get_if<bool>(&v.value)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&v.value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v.value)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    return buf;
  }
  return json_quote(std::get<std::string>(v.value));
}

}  // namespace offers
