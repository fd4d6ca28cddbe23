#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace offers {

// One JSON object per line on stdout: {"ts":..., "level":..., "service":..., "msg":..., fields...}.
// Values are logged as strings; never pass credentials.
using LogField = std::pair<std::string_view, std::string>;

void set_log_service(std::string name);
void log_info(std::string_view msg, std::initializer_list<LogField> fields = {});
void log_warn(std::string_view msg, std::initializer_list<LogField> fields = {});
void log_error(std::string_view msg, std::initializer_list<LogField> fields = {});

// RFC 3339 UTC with milliseconds, e.g. 2026-11-21T10:00:00.123Z.
std::string utc_now_iso8601();
// The same with microseconds, for timings.
std::string utc_now_iso8601_us();

}  // namespace offers
