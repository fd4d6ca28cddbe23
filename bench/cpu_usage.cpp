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
}

std::map<std::string, double> CpuUsage::since_start() const {
  std::map<std::string, double> out;
  for (const auto& [name, pid] : pids_) out[name] = cpu_seconds(pid) - at_start_.at(name);
  return out;
}

}  // namespace offers::bench
