#include "shared/redis/resp.hpp"

#include <charconv>

namespace offers {
namespace {

// The decimal text of n, written into buf.
std::string_view number_text(char (&buf)[24], long long n) {
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  return std::string_view(buf, static_cast<size_t>(end - buf));
}

void append_number(std::string& out, long long n) {
  char buf[24];
  out += number_text(buf, n);
}

}  // namespace

void RespArgs::add(std::string_view arg) {
  bytes_ += '$';
  append_number(bytes_, static_cast<long long>(arg.size()));
  bytes_ += "\r\n";
  bytes_ += arg;
  bytes_ += "\r\n";
  ++count_;
}

void RespArgs::add(long long number) {
  char buf[24];
  add(number_text(buf, number));
}

void RespArgs::clear() {
  bytes_.clear();
  count_ = 0;
}

std::string resp_command(std::initializer_list<const RespArgs*> parts) {
  size_t count = 0, size = 16;
  for (const RespArgs* p : parts) {
    count += p->count();
    size += p->bytes().size();
  }
  std::string out;
  out.reserve(size);
  out += '*';
  append_number(out, static_cast<long long>(count));
  out += "\r\n";
  for (const RespArgs* p : parts) out += p->bytes();
  return out;
}

}  // namespace offers
