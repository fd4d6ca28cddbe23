#include "shared/redis/resp.hpp"

#include <hiredis/hiredis.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using offers::resp_command;
using offers::RespArgs;

namespace {

// What hiredis itself writes for the same arguments.
std::string hiredis_format(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  char* out = nullptr;
  const int n =
      redisFormatCommandArgv(&out, static_cast<int>(argv.size()), args.data(), lens.data());
  REQUIRE(n > 0);
  std::string s(out, static_cast<size_t>(n));
  redisFreeCommand(out);
  return s;
}

}  // namespace

TEST_CASE("A command built in parts is the wire format hiredis writes for the same arguments",
          "[resp]") {
  RespArgs head, keys, args;
  head.add("EVALSHA");
  head.add("0123456789abcdef");
  keys.add("k:1");
  keys.add(std::string("bin\0ary\r\n", 9));
  args.add(604800LL);
  args.add(-3LL);
  args.add("");
  head.add(static_cast<long long>(keys.count()));
  CHECK(resp_command({&head, &keys, &args}) ==
        hiredis_format({"EVALSHA", "0123456789abcdef", "2", "k:1", std::string("bin\0ary\r\n", 9),
                        "604800", "-3", ""}));
  CHECK(head.count() == 3);
  CHECK(args.count() == 3);
}

TEST_CASE("Cleared arguments start again from nothing", "[resp]") {
  RespArgs a;
  a.add("x");
  a.clear();
  CHECK(a.count() == 0);
  CHECK(a.bytes().empty());
  a.add("PING");
  CHECK(resp_command({&a}) == "*1\r\n$4\r\nPING\r\n");
}
