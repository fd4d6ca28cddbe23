#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace offers {

// Arguments of a Redis command in the wire format (RESP bulk strings), appended one at a time, so
// that a command built from many small pieces is formatted once, where it is built.
class RespArgs {
 public:
  void add(std::string_view arg);
  void add(long long number);
  size_t count() const { return count_; }
  const std::string& bytes() const { return bytes_; }
  void clear();

 private:
  std::string bytes_;
  size_t count_ = 0;
};

// "*N" followed by each part's arguments, in order: a whole command for
// AsyncRedis::formatted.
std::string resp_command(std::initializer_list<const RespArgs*> parts);

}  // namespace offers
