#pragma once

#include <map>
#include <string>

#include "bench/figures.hpp"
#include "tests/support/sentinel_group.hpp"

namespace offers::bench {

// The variables that point a service at a SentinelGroup, waiting for min_replicas replicas.
std::map<std::string, std::string> sentinel_env(const test::SentinelGroup& redis, int min_replicas);

// special-offers with REDIS_MIN_REPLICAS=1 on a master with two replicas behind three sentinels;
// the master is killed with SIGKILL and the time until a write is answered 201 again is
// measured, `repeats` times (a new group each time). Milliseconds.
Percentiles redis_failover_gap(int repeats, const std::map<std::string, std::string>& service_env);

}  // namespace offers::bench
