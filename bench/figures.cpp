#include "bench/figures.hpp"

#include <algorithm>
#include <cstdio>

#include "shared/common/json.hpp"

namespace offers::bench {

Percentiles percentiles(std::vector<double> s) {
  Percentiles p;
  p.count = s.size();
  if (s.empty()) return p;
  std::sort(s.begin(), s.end());
  auto at = [&](double q) {
    return s[std::min(s.size() - 1, static_cast<size_t>(q * static_cast<double>(s.size())))];
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  return p;
}

void Report::add(const std::string& section, const std::string& name, double value,
                 const std::string& unit) {
  rows_.push_back({section, name, unit, value});
}

void Report::ratio(const std::string& name, double value, double target, bool higher) {
  ratios_.push_back({name, value, target, higher, {}});
}

namespace {
double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
}  // namespace

Report Report::median(const std::vector<Report>& rounds) {
  Report out;
  if (rounds.empty()) return out;
  out = rounds.front();
  for (size_t i = 0; i < out.rows_.size(); ++i) {
    std::vector<double> v;
    for (const auto& r : rounds) {
      if (i < r.rows_.size() && r.rows_[i].name == out.rows_[i].name) v.push_back(r.rows_[i].value);
    }
    out.rows_[i].value = median_of(v);
  }
  for (size_t i = 0; i < out.ratios_.size(); ++i) {
    std::vector<double> v;
    for (const auto& r : rounds) {
      if (i < r.ratios_.size()) v.push_back(r.ratios_[i].value);
    }
    out.ratios_[i].value = median_of(v);
    out.ratios_[i].rounds = v;
  }
  return out;
}

std::string Report::table() const {
  std::string out;
  char line[256];
  std::string section;
  for (const auto& r : rows_) {
    if (r.section != section) {
      section = r.section;
      out += "\n" + section + "\n";
    }
    std::snprintf(line, sizeof line, "  %-44s %14.1f %s\n", r.name.c_str(), r.value,
                  r.unit.c_str());
    out += line;
  }
  out += "\nratios against targets\n";
  for (const auto& r : ratios_) {
    const bool met = r.higher_is_better ? r.value >= r.target : r.value <= r.target;
    std::snprintf(line, sizeof line, "  %-44s %8.2f   target %s %.2f   %s", r.name.c_str(), r.value,
                  r.higher_is_better ? ">=" : "<=", r.target, met ? "met" : "NOT met");
    out += line;
    if (r.rounds.size() > 1) {
      out += "   (rounds:";
      for (double v : r.rounds) {
        std::snprintf(line, sizeof line, " %.2f", v);
        out += line;
      }
      out += ")";
    }
    out += "\n";
  }
  return out;
}

std::string Report::json(const std::string& machine) const {
  std::string out = "{\"machine\":" + json_quote(machine) + ",\"figures\":[";
  for (size_t i = 0; i < rows_.size(); ++i) {
    char v[64];
    std::snprintf(v, sizeof v, "%.3f", rows_[i].value);
    out += std::string(i ? "," : "") + "{\"section\":" + json_quote(rows_[i].section) +
           ",\"name\":" + json_quote(rows_[i].name) + ",\"value\":" + v +
           ",\"unit\":" + json_quote(rows_[i].unit) + "}";
  }
  out += "],\"ratios\":[";
  for (size_t i = 0; i < ratios_.size(); ++i) {
    char v[128];
    std::snprintf(v, sizeof v, "\"value\":%.4f,\"target\":%.4f", ratios_[i].value,
                  ratios_[i].target);
    std::string each;
    for (double x : ratios_[i].rounds) {
      char one[32];
      std::snprintf(one, sizeof one, "%s%.4f", each.empty() ? "" : ",", x);
      each += one;
    }
    out += std::string(i ? "," : "") + "{\"name\":" + json_quote(ratios_[i].name) + "," + v +
           ",\"rounds\":[" + each + "]}";
  }
  return out + "]}\n";
}

}  // namespace offers::bench
