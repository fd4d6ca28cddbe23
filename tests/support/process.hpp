#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace offers::test {

// A child process with extra environment variables, its output in a log file. The destructor
// kills it (SIGKILL) if it is still running.
class Process {
 public:
  Process(const std::string& exe, const std::map<std::string, std::string>& env,
          const std::string& log_path, const std::vector<std::string>& args = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // The exit code (128 + signal when killed), or nullopt if still running at the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();
  std::string log() const;
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

// A kB figure of /proc/<pid>/status, such as "VmRSS" or "VmHWM" (peak); -1 when absent.
long proc_status_kib(pid_t pid, const std::string& field);

}  // namespace offers::test
