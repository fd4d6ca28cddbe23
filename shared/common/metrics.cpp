#include "shared/common/metrics.hpp"

#include <cstdio>
#include <stdexcept>

namespace offers {
namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string series(const std::string& name, const std::string& labels) {
  return labels.empty() ? name : name + "{" + labels + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  buckets_.resize(bounds_.size() + 1);
}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s{bounds_, {}, 0, sum_.load(std::memory_order_relaxed)};
  uint64_t acc = 0;
  for (const auto& b : buckets_) {
    acc += b.load(std::memory_order_relaxed);
    s.cumulative.push_back(acc);
  }
  s.count = acc;
  return s;
}

Metrics::Family& Metrics::family(const std::string& name, const std::string& help,
                                 const std::string& type) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.help = help;
    f.type = type;
  } else if (f.type != type) {
    throw std::logic_error("metric " + name + " registered with two types");
  }
  return f;
}

Counter& Metrics::counter(const std::string& name, const std::string& help,
                          const std::string& labels) {
  std::lock_guard lock(mu_);
  return family(name, help, "counter").counters[labels];
}

Gauge& Metrics::gauge(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard lock(mu_);
  return family(name, help, "gauge").gauges[labels];
}

Histogram& Metrics::histogram(const std::string& name, const std::string& help,
                              std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  return family(name, help, "histogram").histograms.emplace_back(std::move(bounds));
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, c] : f.counters) {
      out += series(name, labels) + " " + std::to_string(c.value()) + "\n";
    }
    for (const auto& [labels, g] : f.gauges)
      out += series(name, labels) + " " + number(g.value()) + "\n";
    for (const auto& h : f.histograms) {
      const auto s = h.snapshot();
      for (size_t i = 0; i < s.bounds.size(); ++i) {
        out += name + "_bucket{le=\"" + number(s.bounds[i]) + "\"} " +
               std::to_string(s.cumulative[i]) + "\n";
      }
      out += name + "_bucket{le=\"+Inf\"} " + std::to_string(s.count) + "\n";
      out += name + "_sum " + number(s.sum) + "\n";
      out += name + "_count " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace offers
