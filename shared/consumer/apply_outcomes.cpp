#include "shared/consumer/apply_outcomes.hpp"

namespace offers {
namespace {
Counter& result(Metrics& m, const std::string& series, const std::string& help, const char* r) {
  return m.counter(series, help, std::string("result=\"") + r + "\"");
}
}  // namespace

ApplyOutcomes::ApplyOutcomes(Metrics& metrics, const std::string& series, const std::string& help)
    : applied_(result(metrics, series, help, "applied")),
      duplicate_(result(metrics, series, help, "duplicate")),
      stale_(result(metrics, series, help, "stale")),
      ignored_(result(metrics, series, help, "ignored")) {}

bool ApplyOutcomes::count(std::string_view r) {
  if (r == "applied") {
    applied_.inc();
  } else if (r == "duplicate") {
    duplicate_.inc();
  } else if (r == "stale") {
    stale_.inc();
  } else if (r == "ignored") {
    ignored_.inc();
  } else {
    return false;
  }
  return true;
}

}  // namespace offers
