#include "shared/redis/redis_async.hpp"

#include <uv.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/harness.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

// A libuv loop run by the test thread, closed with every handle gone.
struct Loop {
  uv_loop_t loop;
  Loop() { uv_loop_init(&loop); }
  ~Loop() {
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }
  bool run_until(const std::function<bool()>& done) {
    return wait_until(
        [&] {
          uv_run(&loop, UV_RUN_NOWAIT);
          return done();
        },
        5s);
  }
};

std::vector<std::string> strings(const redisReply* r) {
  std::vector<std::string> out;
  for (size_t i = 0; r != nullptr && i < r->elements; ++i)
    out.emplace_back(r->element[i]->str, r->element[i]->len);
  return out;
}

}  // namespace

TEST_CASE("eval runs a script Redis has forgotten by sending its text, then by its digest",
          "[redis]") {
  Sandbox box;
  Loop l;
  {
    RedisEndpoint ep;
    ep.host = "127.0.0.1";
    ep.port = Infra::get().redis_port;
    ep.db = box.redis_db();
    AsyncRedis redis(&l.loop, ep, nullptr);
    redis.start();
    REQUIRE(l.run_until([&] { return redis.ready(); }));
    box.redis().command({"SCRIPT", "FLUSH"});

    const LuaScript script("return {KEYS[1], ARGV[1], ARGV[2]}");
    RespArgs keys, args;
    keys.add("a-key");
    args.add("first");
    args.add(std::string("bin\0ary", 7));
    for (int round = 0; round < 2; ++round) {
      INFO("round " << round);
      std::optional<std::vector<std::string>> got;
      redis.eval(script, keys, args, [&](redisReply* r) { got = strings(r); });
      REQUIRE(l.run_until([&] { return got.has_value(); }));
      CHECK(*got == std::vector<std::string>{"a-key", "first", std::string("bin\0ary", 7)});
      CHECK(box.redis().command({"SCRIPT", "EXISTS", script.sha1})->element[0]->integer == 1);
    }
    redis.stop();
  }
}
