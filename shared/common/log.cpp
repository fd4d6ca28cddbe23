#include "shared/common/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "shared/common/json.hpp"

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

namespace {

std::string iso8601(int digits) {
  const auto now = std::chrono::system_clock::now();
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const int fraction = static_cast<int>(digits == 6 ? us % 1000000 : us % 1000000 / 1000);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%0*dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, digits, fraction);
  return buf;
}

}  // namespace

std::string utc_now_iso8601() { return iso8601(3); }
std::string utc_now_iso8601_us() { return iso8601(6); }

}  // namespace offers
