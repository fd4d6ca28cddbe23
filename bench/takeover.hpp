#pragma once

#include <chrono>
#include <map>
#include <string>

#include "bench/figures.hpp"

namespace offers::bench {

// Two special-offers replicas with the given lease; the relay holder is killed with SIGKILL and
// the time until the standby has published its first event is measured, `repeats` times.
// Milliseconds.
Percentiles relay_takeover(int repeats, const std::string& lease,
                           const std::map<std::string, std::string>& service_env);

}  // namespace offers::bench
