#include "shared/common/metrics.hpp"

#include <catch2/catch.hpp>

using namespace offers;

TEST_CASE("metrics render in Prometheus text format", "[metrics]") {
  Metrics m;
  m.counter("deliveries_total", "Deliveries by result", "result=\"applied\"").inc(3);
  m.counter("deliveries_total", "Deliveries by result", "result=\"duplicate\"").inc();
  m.gauge("outbox_lag", "Lag").set(5);
  auto& h = m.histogram("latency_seconds", "Latency", {0.01, 0.1});
  h.observe(0.005);
  h.observe(0.05);
  h.observe(1);
  const std::string text = m.render();
  CHECK_THAT(text, Catch::Contains("# TYPE deliveries_total counter"));
  CHECK_THAT(text, Catch::Contains("deliveries_total{result=\"applied\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("deliveries_total{result=\"duplicate\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("outbox_lag 5\n"));
  CHECK_THAT(text, Catch::Contains("latency_seconds_bucket{le=\"0.01\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("latency_seconds_bucket{le=\"0.1\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("latency_seconds_bucket{le=\"+Inf\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("latency_seconds_count 3\n"));
}
