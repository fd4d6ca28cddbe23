#include "shared/common/settings.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace offers;
using namespace std::chrono_literals;

namespace {
EnvReader env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string config_error_variable(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.variable();
  }
  return "";
}
}  // namespace

TEST_CASE("defaults work on one machine", "[settings]") {
  const auto p = load_publisher(env_of({}));
  CHECK(p.common.amqp.host == "localhost");
  CHECK(p.common.amqp.port == 5672);
  CHECK(p.common.amqp.user == "guest");
  CHECK(p.common.amqp.vhost == "/");
  CHECK(p.common.redis.port == 6379);
  CHECK(p.common.redis.db == 0);
  CHECK(p.common.http_port == 8080);
  const auto s = load_subscriber(env_of({}), 8083);
  CHECK(s.common.http_port == 8083);
  CHECK(s.retry_delays == std::vector<std::chrono::milliseconds>{1s, 5s, 25s});
  CHECK(s.common.queue_type == QueueType::Classic);
  CHECK(s.common.http_idle_timeout == 60s);
  CHECK(s.common.http_request_timeout == 10s);
}

TEST_CASE("URLs are parsed with credentials - vhost and database", "[settings]") {
  const auto a = parse_amqp_url("AMQP_URL", "amqp://user:p%40ss@broker:5673/my%2Fvhost");
  CHECK(a.user == "user");
  CHECK(a.password == "p@ss");
  CHECK(a.host == "broker");
  CHECK(a.port == 5673);
  CHECK(a.vhost == "my/vhost");
  CHECK(a.redacted().find("p@ss") == std::string::npos);
  CHECK(a.redacted().find("***") != std::string::npos);
  const auto r = parse_redis_url("REDIS_URL", "redis://:secret@cache:6380/3");
  CHECK(r.host == "cache");
  CHECK(r.port == 6380);
  CHECK(r.db == 3);
  CHECK(r.password == "secret");
  CHECK(r.redacted().find("secret") == std::string::npos);
}

TEST_CASE("tuning knobs parse", "[settings]") {
  const auto s = load_subscriber(env_of({{"PREFETCH", "50"},
                                         {"RETRY_DELAYS", "100ms,1s,2m"},
                                         {"DEDUPE_TTL", "1h"},
                                         {"QUEUE_TYPE", "quorum"},
                                         {"FAIL_ON_DESCRIPTION", "boom"},
                                         {"HTTP_IDLE_TIMEOUT", "90s"},
                                         {"HTTP_REQUEST_TIMEOUT", "500ms"}}),
                                 8081);
  CHECK(s.prefetch == 50);
  CHECK(s.retry_delays == std::vector<std::chrono::milliseconds>{100ms, 1s, 2min});
  CHECK(s.dedupe_ttl == 3600s);
  CHECK(s.common.queue_type == QueueType::Quorum);
  CHECK(s.fail_on_description == "boom");
  CHECK(s.common.http_idle_timeout == 90s);
  CHECK(s.common.http_request_timeout == 500ms);
}

TEST_CASE("a setting that does not parse names its variable", "[settings]") {
  const std::pair<std::map<std::string, std::string>, std::string> cases[] = {
      {{{"AMQP_URL", "http://x"}}, "AMQP_URL"},
      {{{"AMQP_URL", "amqp://h:notaport/"}}, "AMQP_URL"},
      {{{"AMQP_URL", "amqp://h:70000/"}}, "AMQP_URL"},
      {{{"REDIS_URL", "redis://h/abc"}}, "REDIS_URL"},
      {{{"HTTP_PORT", "eighty"}}, "HTTP_PORT"},
      {{{"HTTP_PORT", "-1"}}, "HTTP_PORT"},
      {{{"PREFETCH", "0"}}, "PREFETCH"},
      {{{"PREFETCH", "12x"}}, "PREFETCH"},
      {{{"RETRY_DELAYS", "1s,,2s"}}, "RETRY_DELAYS"},
      {{{"RETRY_DELAYS", "5 parsecs"}}, "RETRY_DELAYS"},
      {{{"DEDUPE_TTL", "1s"}}, "DEDUPE_TTL"},
      {{{"QUEUE_TYPE", "stream"}}, "QUEUE_TYPE"},
      {{{"RECONNECT_MIN", "2s"}, {"RECONNECT_MAX", "1s"}}, "RECONNECT_MAX"},
      {{{"HTTP_IDLE_TIMEOUT", "soon"}}, "HTTP_IDLE_TIMEOUT"},
      {{{"HTTP_IDLE_TIMEOUT", "0s"}}, "HTTP_IDLE_TIMEOUT"},
      {{{"HTTP_REQUEST_TIMEOUT", "-1s"}}, "HTTP_REQUEST_TIMEOUT"},
      {{{"HTTP_REQUEST_TIMEOUT", "10 parsecs"}}, "HTTP_REQUEST_TIMEOUT"},
  };
  for (const auto& [vars, variable] : cases) {
    INFO(variable);
    CHECK(config_error_variable([&] { load_subscriber(env_of(vars), 8081); }) == variable);
  }
  CHECK(config_error_variable([&] {
          load_publisher(env_of({{"CONFIRM_WINDOW", "0"}}));
        }) == "CONFIRM_WINDOW");
  CHECK(config_error_variable([&] {
          load_publisher(env_of({{"IDEMPOTENCY_TTL", "a day"}}));
        }) == "IDEMPOTENCY_TTL");
  CHECK(config_error_variable([&] {
          load_publisher(env_of({{"IDEMPOTENCY_TTL", "0h"}}));
        }) == "IDEMPOTENCY_TTL");
  CHECK(load_publisher(env_of({})).idempotency_ttl == 24h);
  CHECK(load_publisher(env_of({{"IDEMPOTENCY_TTL", "90m"}})).idempotency_ttl == 90min);
}

TEST_CASE("the relay lease and the replica's name", "[settings]") {
  const auto p = load_publisher(env_of({{"HTTP_PORT", "8090"}}));
  CHECK(p.relay_lease == 5s);
  CHECK(p.relay_id.size() > 5);
  CHECK(p.relay_id.substr(p.relay_id.size() - 5) == ":8090");
  const auto q = load_publisher(env_of({{"RELAY_LEASE", "2s"}, {"RELAY_ID", "pod-a"}}));
  CHECK(q.relay_lease == 2s);
  CHECK(q.relay_id == "pod-a");
  CHECK(config_error_variable([] {
          load_publisher(env_of({{"RELAY_LEASE", "100ms"}}));
        }) == "RELAY_LEASE");
  CHECK(config_error_variable([] {
          load_publisher(env_of({{"RELAY_LEASE", "soon"}}));
        }) == "RELAY_LEASE");
  CHECK(config_error_variable([] { load_publisher(env_of({{"RELAY_ID", "a b"}})); }) == "RELAY_ID");
}

TEST_CASE("AMQP_URL lists the brokers of a cluster", "[settings]") {
  const auto p = load_publisher(env_of(
      {{"AMQP_URL", "amqp://u:p@node1:5672/v, amqp://u:p@node2:5673/v,amqp://u:p@node3/v"}}));
  REQUIRE(p.common.brokers.size() == 3);
  CHECK(p.common.brokers[0].host == "node1");
  CHECK(p.common.brokers[1].host == "node2");
  CHECK(p.common.brokers[1].port == 5673);
  CHECK(p.common.brokers[2].port == 5672);
  CHECK(p.common.brokers[2].vhost == "v");
  CHECK(p.common.amqp.host == "node1");
  CHECK(load_publisher(env_of({})).common.brokers.size() == 1);
  CHECK(config_error_variable([] {
          load_publisher(env_of({{"AMQP_URL", "amqp://node1/,,amqp://node2/"}}));
        }) == "AMQP_URL");
  CHECK(config_error_variable([] {
          load_publisher(env_of({{"AMQP_URL", "amqp://node1/,http://node2/"}}));
        }) == "AMQP_URL");
}

TEST_CASE("catch-up settings: CATCH_UP and FEED_URL", "[settings]") {
  const auto off = load_subscriber(env_of({}), 8082);
  CHECK(off.catch_up == CatchUpMode::Off);
  const auto on = load_subscriber(env_of({}), 8081, CatchUpMode::Auto);
  CHECK(on.catch_up == CatchUpMode::Auto);
  CHECK(on.feed.host == "localhost");
  CHECK(on.feed.port == 8080);
  CHECK(load_subscriber(env_of({{"CATCH_UP", "off"}}), 8081, CatchUpMode::Auto).catch_up ==
        CatchUpMode::Off);
  CHECK(load_subscriber(env_of({{"CATCH_UP", "auto"}}), 8082).catch_up == CatchUpMode::Auto);
  const auto feed = load_subscriber(env_of({{"FEED_URL", "http://special-offers:9000/"}}), 8081);
  CHECK(feed.feed.host == "special-offers");
  CHECK(feed.feed.port == 9000);
  CHECK(load_feed(env_of({{"FEED_URL", "http://feed"}})).port == 80);

  CHECK(config_error_variable([] {
          load_subscriber(env_of({{"CATCH_UP", "yes"}}), 1);
        }) == "CATCH_UP");
  for (const char* bad : {"https://x:8080", "localhost:8080", "http://:8080", "http://x:0",
                          "http://x:port", "http://x:8080/feed", "http://u:p@x:8080"}) {
    INFO(bad);
    CHECK(config_error_variable([&] {
            load_subscriber(env_of({{"FEED_URL", bad}}), 1);
          }) == "FEED_URL");
  }
}

TEST_CASE("Redis through Sentinel and durable writes", "[settings]") {
  const auto plain = load_subscriber(env_of({}), 8081).common.redis;
  CHECK(plain.sentinels.empty());
  CHECK(plain.min_replicas == 0);
  CHECK(plain.wait_timeout == 1s);
  const auto r = load_subscriber(env_of({{"REDIS_URL", "redis://:pw@ignored:1/4"},
                                         {"REDIS_SENTINELS", "s1:26379, 10.0.0.2:26380"},
                                         {"REDIS_MIN_REPLICAS", "1"},
                                         {"REDIS_WAIT_TIMEOUT", "250ms"}}),
                                 8081)
                     .common.redis;
  REQUIRE(r.sentinels.size() == 2);
  CHECK(r.sentinels[0].host == "s1");
  CHECK(r.sentinels[0].port == 26379);
  CHECK(r.sentinels[1].host == "10.0.0.2");
  CHECK(r.sentinels[1].port == 26380);
  CHECK(r.master_name == "offers");
  CHECK(r.db == 4);
  CHECK(r.password == "pw");
  CHECK(r.min_replicas == 1);
  CHECK(r.wait_timeout == 250ms);
  CHECK(r.redacted() == "redis-sentinel://:***@s1:26379,10.0.0.2:26380/offers/4");
  CHECK(load_subscriber(env_of({{"REDIS_SENTINELS", "h:1"}, {"REDIS_MASTER_NAME", "m2"}}), 8081)
            .common.redis.master_name == "m2");
  const std::pair<std::map<std::string, std::string>, std::string> bad[] = {
      {{{"REDIS_SENTINELS", ","}}, "REDIS_SENTINELS"},
      {{{"REDIS_SENTINELS", "h:1,"}}, "REDIS_SENTINELS"},
      {{{"REDIS_SENTINELS", "host"}}, "REDIS_SENTINELS"},
      {{{"REDIS_SENTINELS", "host:port"}}, "REDIS_SENTINELS"},
      {{{"REDIS_SENTINELS", ":26379"}}, "REDIS_SENTINELS"},
      {{{"REDIS_SENTINELS", "h:70000"}}, "REDIS_SENTINELS"},
      {{{"REDIS_MASTER_NAME", "a b"}}, "REDIS_MASTER_NAME"},
      {{{"REDIS_MIN_REPLICAS", "-1"}}, "REDIS_MIN_REPLICAS"},
      {{{"REDIS_MIN_REPLICAS", "one"}}, "REDIS_MIN_REPLICAS"},
      {{{"REDIS_WAIT_TIMEOUT", "0ms"}}, "REDIS_WAIT_TIMEOUT"},
      {{{"REDIS_WAIT_TIMEOUT", "soon"}}, "REDIS_WAIT_TIMEOUT"},
  };
  for (const auto& [vars, variable] : bad) {
    INFO(vars.begin()->second);
    CHECK(config_error_variable([&] { load_publisher(env_of(vars)); }) == variable);
  }
}
