#include "shared/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "shared/json.hpp"

namespace offers {
namespace {

std::string& service_name() {
  static std::string name = "offers";
  return name;
}

void emit(std::string_view level, std::string_view msg, std::initializer_list<LogField> fields) {
  std::string line = "{\"ts\":" + json_quote(utc_now_iso8601()) +
                     ",\"level\":" + json_quote(level) +
                     ",\"service\":" + json_quote(service_name()) + ",\"msg\":" + json_quote(msg);
  for (const auto& [k, v] : fields) {
    line += "," + json_quote(k) + ":" + json_quote(v);
  }
  line += "}\n";
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void set_log_service(std::string name) { service_name() = std::move(name); }
void log_info(std::string_view msg, std::initializer_list<LogField> f) { emit("info", msg, f); }
void log_warn(std::string_view msg, std::initializer_list<LogField> f) { emit("warn", msg, f); }
void log_error(std::string_view msg, std::initializer_list<LogField> f) { emit("error", msg, f); }

std::string utc_now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace offers
