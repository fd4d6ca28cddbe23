#pragma once

#include <sys/types.h>

#include <map>
#include <string>

namespace offers::bench {

// CPU time (user + system) used by a set of named processes over an interval, read from
// /proc/<pid>/stat: where the machine's cores go while a figure is measured.
class CpuUsage {
 public:
  // Counts from now, or from start() when called later.
  void watch(const std::string& name, pid_t pid);
  void start();
  // Seconds of CPU per process since start().
  std::map<std::string, double> since_start() const;
  // Share of the machine's CPU time the hypervisor gave to other guests since start().
  double stolen_since_start() const;

 private:
  struct MachineTicks {
    unsigned long long total = 0, steal = 0;
  };
  static MachineTicks machine_ticks();
  std::map<std::string, pid_t> pids_;
  std::map<std::string, double> at_start_;
  MachineTicks machine_at_start_;
};

// CPU seconds a process has used so far; 0 when it is gone.
double cpu_seconds(pid_t pid);
// The pid written in a pid file; 0 when there is none.
pid_t pid_in_file(const std::string& path);

}  // namespace offers::bench
