#include "bench/takeover.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

#include "tests/support/harness.hpp"
#include "tests/support/wait.hpp"

namespace offers::bench {

using namespace offers::test;
using namespace std::chrono_literals;

Percentiles relay_takeover(int repeats, const std::string& lease,
                           const std::map<std::string, std::string>& service_env) {
  std::vector<double> samples;
  for (int i = 0; i < repeats; ++i) {
    Sandbox box;
    auto env = service_env;
    env["RELAY_LEASE"] = lease;
    std::unique_ptr<Service> replicas[2] = {box.start("special-offers", env),
                                            box.start("special-offers", env)};
    int holder = -1;
    if (!wait_until(
            [&] {
              for (int r = 0; r < 2; ++r) {
                if (metric(*replicas[r], "relay_active") == 1) holder = r;
              }
              return holder >= 0;
            },
            30s, 10ms)) {
      throw std::runtime_error("no relay took the lease");
    }
    Service& standby = *replicas[1 - holder];
    const auto killed = std::chrono::steady_clock::now();
    replicas[holder]->kill9();
    // The write sits in the outbox until the standby holds the lease and publishes it.
    if (standby.request("POST", "/offers", R"({"description":"takeover"})").status != 201 ||
        !wait_until([&] { return metric(standby, "relay_published_total") >= 1; }, 60s, 2ms)) {
      throw std::runtime_error("the standby did not publish");
    }
    samples.push_back(ms_since(killed));
  }
  return percentiles(samples);
}

}  // namespace offers::bench
