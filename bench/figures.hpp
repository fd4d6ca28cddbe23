#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace offers::bench {

// Latency samples in microseconds.
struct Percentiles {
  double p50 = 0, p99 = 0, p999 = 0;
  size_t count = 0;
};
Percentiles percentiles(std::vector<double> samples);

// Milliseconds, with microsecond resolution, since a moment of the steady clock.
inline double ms_since(std::chrono::steady_clock::time_point from) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - from)
                                 .count()) /
         1000.0;
}

// The figures of one run: printed as a table and written as JSON.
class Report {
 public:
  void add(const std::string& section, const std::string& name, double value,
           const std::string& unit);
  void ratio(const std::string& name, double value, double target, bool higher_is_better);
  std::string table() const;
  std::string json(const std::string& machine) const;
  // Each figure and ratio as the median over rounds of the same sections; ratios keep every
  // round's value beside the median.
  static Report median(const std::vector<Report>& rounds);

 private:
  struct Row {
    std::string section, name, unit;
    double value;
  };
  struct Ratio {
    std::string name;
    double value, target;
    bool higher_is_better;
    std::vector<double> rounds;
  };
  std::vector<Row> rows_;
  std::vector<Ratio> ratios_;
};

}  // namespace offers::bench
