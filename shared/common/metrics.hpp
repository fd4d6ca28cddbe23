#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace offers {

class Counter {
 public:
  void inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;
    uint64_t count;
    double sum;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::deque<std::atomic<uint64_t>> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Prometheus text exposition. Series are created at start-up and live as long as the registry;
// updating them is lock-free.
class Metrics {
 public:
  // labels: the label set as Prometheus text without braces, e.g. result="applied".
  Counter& counter(const std::string& name, const std::string& help,
                   const std::string& labels = "");
  Gauge& gauge(const std::string& name, const std::string& help, const std::string& labels = "");
  Histogram& histogram(const std::string& name, const std::string& help,
                       std::vector<double> bounds);
  std::string render() const;

 private:
  struct Family {
    std::string help, type;
    std::map<std::string, Counter> counters;
    std::map<std::string, Gauge> gauges;
    std::deque<Histogram> histograms;
  };
  Family& family(const std::string& name, const std::string& help, const std::string& type);
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace offers
