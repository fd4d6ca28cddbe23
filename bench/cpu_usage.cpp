#include "bench/cpu_usage.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace offers::bench {

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (pid <= 0 || !std::getline(in, stat)) return 0;
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are
  // fields 14 and 15.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

pid_t pid_in_file(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

void CpuUsage::watch(const std::string& name, pid_t pid) {
  pids_[name] = pid;
  at_start_[name] = cpu_seconds(pid);
}

void CpuUsage::start() {
  for (const auto& [name, pid] : pids_) at_start_[name] = cpu_seconds(pid);
  machine_at_start_ = machine_ticks();
}

CpuUsage::MachineTicks CpuUsage::machine_ticks() {
  // cpu  user nice system idle iowait irq softirq steal ...
  std::ifstream in("/proc/stat");
  std::string label;
  in >> label;
  MachineTicks t;
  unsigned long long v = 0;
  for (int i = 0; i < 8 && in >> v; ++i) {
    t.total += v;
    if (i == 7) t.steal = v;
  }
  return t;
}

double CpuUsage::stolen_since_start() const {
  const MachineTicks now = machine_ticks();
  const auto total = now.total - machine_at_start_.total;
  return total == 0 ? 0
                    : static_cast<double>(now.steal - machine_at_start_.steal) /
                          static_cast<double>(total);
}

std::map<std::string, double> CpuUsage::since_start() const {
  std::map<std::string, double> out;
  for (const auto& [name, pid] : pids_) out[name] = cpu_seconds(pid) - at_start_.at(name);
  return out;
}

}  // namespace offers::bench
