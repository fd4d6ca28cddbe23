#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace offers {

// A setting that does not parse. main() prints it and exits with code 2.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string variable, const std::string& problem)
      : std::runtime_error(variable + ": " + problem), variable_(std::move(variable)) {}
  const std::string& variable() const { return variable_; }

 private:
  std::string variable_;
};

struct AmqpEndpoint {
  std::string host = "localhost";
  int port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  // The URL with the password masked, fit for logs.
  std::string redacted() const;
};

struct HostPort {
  std::string host;
  int port = 0;
};

struct RedisEndpoint {
  RedisEndpoint() = default;
  RedisEndpoint(std::string h, int p, int d, std::string pw)
      : host(std::move(h)), port(p), db(d), password(std::move(pw)) {}
  std::string host = "localhost";
  int port = 6379;
  int db = 0;
  std::string password;
  // With sentinels, host and port are only where the master was last found: every connection
  // asks the sentinels (REDIS_SENTINELS) for master_name's address first.
  std::vector<HostPort> sentinels;
  std::string master_name = "offers";
  // REDIS_MIN_REPLICAS: a write is durable once this many replicas acknowledged it (WAIT).
  int min_replicas = 0;
  std::chrono::milliseconds wait_timeout{1000};
  std::string redacted() const;
};

enum class QueueType { Classic, Quorum };

// Where special-offers serves its event feed: http://host[:port], no path.
struct HttpEndpoint {
  std::string host = "localhost";
  int port = 8080;
  std::string url() const { return "http://" + host + ":" + std::to_string(port); }
};

// Whether a subscriber whose store holds no record of any event first reads the event feed.
enum class CatchUpMode { Auto, Off };

// Settings every process shares, read once at start-up.
struct CommonSettings {
  // Every broker of AMQP_URL (comma-separated URLs, the nodes of one cluster), tried in turn.
  std::vector<AmqpEndpoint> brokers{AmqpEndpoint{}};
  // The first of them, for tools that talk to one broker.
  AmqpEndpoint amqp;
  RedisEndpoint redis;
  int http_port = 0;
  int http_threads = 4;
  std::chrono::milliseconds http_idle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds http_request_timeout{std::chrono::seconds(10)};
  int heartbeat_seconds = 10;
  QueueType queue_type = QueueType::Classic;
  int delivery_limit = 20;  // quorum queues only
  std::chrono::milliseconds reconnect_min{200};
  std::chrono::milliseconds reconnect_max{5000};
};

struct PublisherSettings {
  CommonSettings common;
  int confirm_window = 512;
  int relay_batch = 256;
  int events_page_limit = 1000;
  std::chrono::milliseconds idempotency_ttl{std::chrono::hours(24)};
  std::chrono::milliseconds relay_lease{5000};
  // Names this replica in relay:lease; unique among running replicas (default host:HTTP port).
  std::string relay_id;
};

struct SubscriberSettings {
  CommonSettings common;
  int prefetch = 500;
  std::vector<std::chrono::milliseconds> retry_delays{
      std::chrono::seconds(1), std::chrono::seconds(5), std::chrono::seconds(25)};
  std::chrono::seconds dedupe_ttl{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds shutdown_grace{8000};
  // Test-only: events whose offer description contains this text make the handler fail.
  std::string fail_on_description;
  CatchUpMode catch_up = CatchUpMode::Off;
  HttpEndpoint feed;
};

// Reads a variable; returns nullopt when unset or empty.
using EnvReader = std::function<std::optional<std::string>(const std::string&)>;
EnvReader process_env();

// The comma-separated items of a list variable, each trimmed of blanks (empty ones kept).
std::vector<std::string> split_list(const std::string& text);
AmqpEndpoint parse_amqp_url(const std::string& variable, const std::string& url);
// One or more amqp:// URLs separated by commas.
std::vector<AmqpEndpoint> parse_amqp_urls(const std::string& variable, const std::string& urls);
RedisEndpoint parse_redis_url(const std::string& variable, const std::string& url);
// host:port
HostPort parse_host_port(const std::string& variable, const std::string& text);
// One or more host:port separated by commas (REDIS_SENTINELS).
std::vector<HostPort> parse_host_ports(const std::string& variable, const std::string& text);
// REDIS_URL with REDIS_SENTINELS, REDIS_MASTER_NAME, REDIS_MIN_REPLICAS and REDIS_WAIT_TIMEOUT.
RedisEndpoint load_redis(const EnvReader& env);
HttpEndpoint parse_http_url(const std::string& variable, const std::string& url);
int parse_int(const std::string& variable, const std::string& text, long min, long max);
std::chrono::milliseconds parse_duration(const std::string& variable, const std::string& text);
std::vector<std::chrono::milliseconds> parse_duration_list(const std::string& variable,
                                                           const std::string& text);

CommonSettings load_common(const EnvReader& env, int default_port);
PublisherSettings load_publisher(const EnvReader& env);
// CATCH_UP defaults to catch_up_default: each subscriber decides whether replaying history is
// what its users expect.
SubscriberSettings load_subscriber(const EnvReader& env, int default_port,
                                   CatchUpMode catch_up_default = CatchUpMode::Off);
// FEED_URL, the event feed the catch-up reads (tools share it with the subscribers).
HttpEndpoint load_feed(const EnvReader& env);

}  // namespace offers
