#include "bench/failover.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

#include "tests/support/harness.hpp"
#include "tests/support/wait.hpp"

namespace offers::bench {

using namespace offers::test;
using namespace std::chrono_literals;

std::map<std::string, std::string> sentinel_env(const SentinelGroup& redis, int min_replicas) {
  return {{"REDIS_URL", "redis://127.0.0.1/0"},
          {"REDIS_SENTINELS", redis.sentinels()},
          {"REDIS_MASTER_NAME", redis.master_name()},
          {"REDIS_MIN_REPLICAS", std::to_string(min_replicas)}};
}

Percentiles redis_failover_gap(int repeats, const std::map<std::string, std::string>& service_env) {
  std::vector<double> samples;
  for (int i = 0; i < repeats; ++i) {
    SentinelGroup redis(2);
    Sandbox box;
    auto env = service_env;
    for (const auto& [k, v] : sentinel_env(redis, 1)) env[k] = v;
    auto publisher = box.start("special-offers", env);
    const auto post = [&] {
      return publisher->request("POST", "/offers", R"({"description":"failover"})").status;
    };
    if (const int status = post(); status != 201) {
      throw std::runtime_error("special-offers does not take writes: " + std::to_string(status));
    }
    const int master = redis.master_port();
    const auto killed = std::chrono::steady_clock::now();
    redis.kill9(redis.node_of(master));
    if (!wait_until([&] { return post() == 201; }, 120s, 0ms)) {
      throw std::runtime_error("writes were not taken again after the failover");
    }
    samples.push_back(ms_since(killed));
  }
  return percentiles(samples);
}

}  // namespace offers::bench
