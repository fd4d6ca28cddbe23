#pragma once

#include <string>
#include <string_view>

#include "shared/common/metrics.hpp"

namespace offers {

// What the apply-once script said of each event, counted in one labelled series
// (e.g. deliveries_total{result="applied"}).
class ApplyOutcomes {
 public:
  ApplyOutcomes(Metrics& metrics, const std::string& series, const std::string& help);
  // Counts "applied", "duplicate", "stale" or "ignored"; false for anything else (a failure).
  bool count(std::string_view result);
  uint64_t applied() const { return applied_.value(); }

 private:
  Counter& applied_;
  Counter& duplicate_;
  Counter& stale_;
  Counter& ignored_;
};

}  // namespace offers
