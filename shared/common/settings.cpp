#include "shared/common/settings.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace offers {
namespace {

std::string percent_decode(const std::string& variable, const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !isxdigit(static_cast<unsigned char>(s[i + 1])) ||
          !isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        throw ConfigError(variable, "bad percent-escape in URL");
      }
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct UrlParts {
  std::string user, password, host, port, path;
  bool has_userinfo = false;
};

UrlParts split_url(const std::string& variable, const std::string& url, const std::string& scheme) {
  const std::string prefix = scheme + "://";
  if (url.rfind(prefix, 0) != 0) {
    throw ConfigError(variable, "must start with " + prefix);
  }
  UrlParts p;
  std::string rest = url.substr(prefix.size());
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) p.path = rest.substr(slash + 1);
  const auto at = authority.rfind('@');
  if (at != std::string::npos) {
    p.has_userinfo = true;
    const std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    p.user = percent_decode(variable, userinfo.substr(0, colon));
    if (colon != std::string::npos)
      p.password = percent_decode(variable, userinfo.substr(colon + 1));
  }
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos) {
    p.host = authority.substr(0, colon);
    p.port = authority.substr(colon + 1);
  } else {
    p.host = authority;
  }
  if (p.host.empty()) throw ConfigError(variable, "URL has no host");
  return p;
}

}  // namespace

std::string AmqpEndpoint::redacted() const {
  std::string v = vhost == "/" ? "" : vhost;
  return "amqp://" + user + ":***@" + host + ":" + std::to_string(port) + "/" + v;
}

std::string RedisEndpoint::redacted() const {
  const std::string auth = password.empty() ? "" : ":***@";
  if (sentinels.empty()) {
    return "redis://" + auth + host + ":" + std::to_string(port) + "/" + std::to_string(db);
  }
  std::string list;
  for (const auto& s : sentinels) {
    list += (list.empty() ? "" : ",") + s.host + ":" + std::to_string(s.port);
  }
  return "redis-sentinel://" + auth + list + "/" + master_name + "/" + std::to_string(db);
}

EnvReader process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

int parse_int(const std::string& variable, const std::string& text, long min, long max) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || end == text.c_str() || *end != '\0' || errno == ERANGE) {
    throw ConfigError(variable, "'" + text + "' is not an integer");
  }
  if (v < min || v > max) {
    throw ConfigError(variable, "'" + text + "' is out of range [" + std::to_string(min) + ", " +
                                    std::to_string(max) + "]");
  }
  return static_cast<int>(v);
}

std::chrono::milliseconds parse_duration(const std::string& variable, const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) {
    throw ConfigError(variable, "'" + text + "' is not a duration (e.g. 500ms, 5s, 2m)");
  }
  const long n = std::stol(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s" || unit.empty()) return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  if (unit == "h") return std::chrono::hours(n);
  throw ConfigError(variable, "'" + text + "' has an unknown unit (use ms, s, m or h)");
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    out.push_back(first == std::string::npos ? "" : item.substr(first, last - first + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::chrono::milliseconds> parse_duration_list(const std::string& variable,
                                                           const std::string& text) {
  const auto items = split_list(text);
  if (items.size() > 20) throw ConfigError(variable, "needs 1 to 20 delays");
  std::vector<std::chrono::milliseconds> out;
  for (const auto& item : items) out.push_back(parse_duration(variable, item));
  return out;
}

AmqpEndpoint parse_amqp_url(const std::string& variable, const std::string& url) {
  const UrlParts p = split_url(variable, url, "amqp");
  AmqpEndpoint e;
  e.host = p.host;
  if (!p.port.empty()) e.port = parse_int(variable, p.port, 1, 65535);
  if (p.has_userinfo) {
    e.user = p.user;
    e.password = p.password;
  }
  e.vhost = p.path.empty() ? "/" : percent_decode(variable, p.path);
  return e;
}

std::vector<AmqpEndpoint> parse_amqp_urls(const std::string& variable, const std::string& urls) {
  const auto items = split_list(urls);
  if (items.size() > 16) throw ConfigError(variable, "lists more than 16 brokers");
  std::vector<AmqpEndpoint> out;
  for (const auto& one : items) {
    if (one.empty()) throw ConfigError(variable, "has an empty entry in its list of brokers");
    out.push_back(parse_amqp_url(variable, one));
  }
  return out;
}

RedisEndpoint parse_redis_url(const std::string& variable, const std::string& url) {
  const UrlParts p = split_url(variable, url, "redis");
  RedisEndpoint e;
  e.host = p.host;
  if (!p.port.empty()) e.port = parse_int(variable, p.port, 1, 65535);
  e.password = p.password;
  if (!p.path.empty()) e.db = parse_int(variable, p.path, 0, 100000);
  return e;
}

HostPort parse_host_port(const std::string& variable, const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
      text.find_first_of(" \t/@") != std::string::npos) {
    throw ConfigError(variable, "'" + text + "' is not host:port");
  }
  return HostPort{text.substr(0, colon), parse_int(variable, text.substr(colon + 1), 1, 65535)};
}

std::vector<HostPort> parse_host_ports(const std::string& variable, const std::string& text) {
  const auto items = split_list(text);
  if (items.size() > 16) throw ConfigError(variable, "lists more than 16 addresses");
  std::vector<HostPort> out;
  for (const auto& one : items) {
    if (one.empty()) throw ConfigError(variable, "has an empty entry in its list");
    out.push_back(parse_host_port(variable, one));
  }
  return out;
}

RedisEndpoint load_redis(const EnvReader& env) {
  RedisEndpoint e =
      parse_redis_url("REDIS_URL", env("REDIS_URL").value_or("redis://localhost:6379/0"));
  if (auto v = env("REDIS_SENTINELS")) e.sentinels = parse_host_ports("REDIS_SENTINELS", *v);
  if (auto v = env("REDIS_MASTER_NAME")) {
    if (v->size() > 200 || v->find_first_of(" \t\r\n") != std::string::npos) {
      throw ConfigError("REDIS_MASTER_NAME", "must be at most 200 characters without spaces");
    }
    e.master_name = *v;
  }
  if (auto v = env("REDIS_MIN_REPLICAS")) {
    e.min_replicas = parse_int("REDIS_MIN_REPLICAS", *v, 0, 16);
  }
  if (auto v = env("REDIS_WAIT_TIMEOUT")) {
    e.wait_timeout = parse_duration("REDIS_WAIT_TIMEOUT", *v);
    if (e.wait_timeout.count() <= 0) throw ConfigError("REDIS_WAIT_TIMEOUT", "must be positive");
  }
  return e;
}

HttpEndpoint parse_http_url(const std::string& variable, const std::string& url) {
  const UrlParts p = split_url(variable, url, "http");
  if (p.has_userinfo) throw ConfigError(variable, "URL must not carry credentials");
  if (!p.path.empty()) throw ConfigError(variable, "URL must not have a path");
  HttpEndpoint e;
  e.host = p.host;
  e.port = p.port.empty() ? 80 : parse_int(variable, p.port, 1, 65535);
  return e;
}

HttpEndpoint load_feed(const EnvReader& env) {
  return parse_http_url("FEED_URL", env("FEED_URL").value_or("http://localhost:8080"));
}

CommonSettings load_common(const EnvReader& env, int default_port) {
  CommonSettings s;
  s.brokers =
      parse_amqp_urls("AMQP_URL", env("AMQP_URL").value_or("amqp://guest:guest@localhost:5672/"));
  s.amqp = s.brokers.front();
  s.redis = load_redis(env);
  s.http_port = default_port;
  if (auto v = env("HTTP_PORT")) s.http_port = parse_int("HTTP_PORT", *v, 0, 65535);
  if (auto v = env("HTTP_THREADS")) s.http_threads = parse_int("HTTP_THREADS", *v, 1, 64);
  if (auto v = env("HTTP_IDLE_TIMEOUT"))
    s.http_idle_timeout = parse_duration("HTTP_IDLE_TIMEOUT", *v);
  if (auto v = env("HTTP_REQUEST_TIMEOUT"))
    s.http_request_timeout = parse_duration("HTTP_REQUEST_TIMEOUT", *v);
  if (s.http_idle_timeout.count() <= 0) throw ConfigError("HTTP_IDLE_TIMEOUT", "must be positive");
  if (s.http_request_timeout.count() <= 0)
    throw ConfigError("HTTP_REQUEST_TIMEOUT", "must be positive");
  if (auto v = env("AMQP_HEARTBEAT")) s.heartbeat_seconds = parse_int("AMQP_HEARTBEAT", *v, 0, 600);
  if (auto v = env("QUEUE_TYPE")) {
    if (*v == "classic") {
      s.queue_type = QueueType::Classic;
    } else if (*v == "quorum") {
      s.queue_type = QueueType::Quorum;
    } else {
      throw ConfigError("QUEUE_TYPE", "'" + *v + "' is not one of classic, quorum");
    }
  }
  if (auto v = env("DELIVERY_LIMIT")) s.delivery_limit = parse_int("DELIVERY_LIMIT", *v, 1, 10000);
  if (auto v = env("RECONNECT_MIN")) s.reconnect_min = parse_duration("RECONNECT_MIN", *v);
  if (auto v = env("RECONNECT_MAX")) s.reconnect_max = parse_duration("RECONNECT_MAX", *v);
  if (s.reconnect_min.count() <= 0) throw ConfigError("RECONNECT_MIN", "must be positive");
  if (s.reconnect_max < s.reconnect_min) {
    throw ConfigError("RECONNECT_MAX", "must not be below RECONNECT_MIN");
  }
  return s;
}

PublisherSettings load_publisher(const EnvReader& env) {
  PublisherSettings s;
  s.common = load_common(env, 8080);
  if (auto v = env("CONFIRM_WINDOW")) s.confirm_window = parse_int("CONFIRM_WINDOW", *v, 1, 65535);
  if (auto v = env("RELAY_BATCH")) s.relay_batch = parse_int("RELAY_BATCH", *v, 1, 10000);
  if (auto v = env("EVENTS_PAGE_LIMIT")) {
    s.events_page_limit = parse_int("EVENTS_PAGE_LIMIT", *v, 1, 100000);
  }
  if (auto v = env("IDEMPOTENCY_TTL")) s.idempotency_ttl = parse_duration("IDEMPOTENCY_TTL", *v);
  if (s.idempotency_ttl.count() <= 0) throw ConfigError("IDEMPOTENCY_TTL", "must be positive");
  if (auto v = env("RELAY_LEASE")) {
    s.relay_lease = parse_duration("RELAY_LEASE", *v);
    if (s.relay_lease < std::chrono::milliseconds(300)) {
      throw ConfigError("RELAY_LEASE", "must be at least 300ms");
    }
  }
  if (auto v = env("RELAY_ID")) {
    if (v->size() > 200 || v->find_first_of(" \t\r\n") != std::string::npos) {
      throw ConfigError("RELAY_ID", "must be at most 200 characters without spaces");
    }
    s.relay_id = *v;
  } else {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
    // Two replicas cannot serve one port on one host; with a port picked by the system, the pid.
    s.relay_id = std::string(host) + ":" +
                 (s.common.http_port != 0 ? std::to_string(s.common.http_port)
                                          : "pid" + std::to_string(getpid()));
  }
  return s;
}

SubscriberSettings load_subscriber(const EnvReader& env, int default_port,
                                   CatchUpMode catch_up_default) {
  SubscriberSettings s;
  s.common = load_common(env, default_port);
  if (auto v = env("PREFETCH")) s.prefetch = parse_int("PREFETCH", *v, 1, 65535);
  if (auto v = env("RETRY_DELAYS")) s.retry_delays = parse_duration_list("RETRY_DELAYS", *v);
  if (auto v = env("DEDUPE_TTL")) {
    s.dedupe_ttl =
        std::chrono::duration_cast<std::chrono::seconds>(parse_duration("DEDUPE_TTL", *v));
  }
  std::chrono::milliseconds retry_window{0};
  for (auto d : s.retry_delays) retry_window += d;
  if (s.dedupe_ttl <= retry_window) {
    throw ConfigError("DEDUPE_TTL", "must be longer than the sum of RETRY_DELAYS");
  }
  if (auto v = env("SHUTDOWN_GRACE")) s.shutdown_grace = parse_duration("SHUTDOWN_GRACE", *v);
  if (auto v = env("FAIL_ON_DESCRIPTION")) s.fail_on_description = *v;
  s.catch_up = catch_up_default;
  if (auto v = env("CATCH_UP")) {
    if (*v == "auto") {
      s.catch_up = CatchUpMode::Auto;
    } else if (*v == "off") {
      s.catch_up = CatchUpMode::Off;
    } else {
      throw ConfigError("CATCH_UP", "'" + *v + "' is not one of auto, off");
    }
  }
  s.feed = load_feed(env);
  return s;
}

}  // namespace offers
