#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shared/amqp/amqp_connection.hpp"
#include "shared/redis/redis_sync.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"

namespace offers::test {

// The throwaway broker and Redis that scripts/test started, read from OFFERS_TEST_* variables.
struct Infra {
  int amqp_port = 0;
  int mgmt_port = 0;
  int redis_port = 0;
  std::string rabbit_node;
  std::string state_dir;
  static const Infra& get();
};

std::string bin_path(const std::string& name);
// Percent-encodes a path segment for the management API (vhost and connection names).
std::string url_encode(const std::string& s);
// rabbitmqctl against the throwaway node, quietly; returns the exit status.
int rabbitmqctl(const std::string& args);
std::string source_path(const std::string& relative);
// One word for /bin/sh, whatever the text holds (spaces, quotes): paths of a checkout anywhere.
std::string shell_quote(const std::string& s);
// A shell command's exit code and everything it printed (stderr too).
struct CommandResult {
  int code;
  std::string out;
};
CommandResult run_command(const std::string& command);
int free_tcp_port();

// A service process under test, with its HTTP port.
class Service {
 public:
  Service(std::string name, const std::string& binary, std::map<std::string, std::string> env,
          const std::string& log_path);
  ~Service();
  int port() const { return port_; }
  Process& process() { return *proc_; }
  HttpResponse get(const std::string& path) { return http_get(port_, path); }
  HttpResponse request(const std::string& method, const std::string& path,
                       const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {}) {
    return http_request(port_, method, path, body, headers);
  }
  bool wait_healthy(std::chrono::milliseconds deadline);
  bool wait_ready(std::chrono::milliseconds deadline);
  // SIGTERM and wait; returns the exit code, or -1 if it did not exit in time.
  int terminate(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  void kill9();
  // Starts the same binary again with the same settings and port.
  void restart();

 private:
  std::string name_, binary_, log_path_;
  std::map<std::string, std::string> env_;
  int port_;
  std::unique_ptr<Process> proc_;
};

// The value of one Prometheus series (name with labels, e.g. deliveries_total{result="applied"}),
// or -1 when absent.
double metric(Service& svc, const std::string& series);

// A private redis-server with AOF on, for tests that stop or kill Redis.
class PrivateRedis {
 public:
  explicit PrivateRedis(const std::string& name);
  ~PrivateRedis();
  int port() const { return port_; }
  std::string url(int db = 0) const;
  void start();
  void kill9();
  bool wait_up(std::chrono::milliseconds deadline);

 private:
  std::string dir_;
  int port_;
  std::unique_ptr<Process> proc_;
};

// Publishes one message on channel 1 (in confirm mode) and waits for the broker's confirm.
void publish_confirmed(AmqpConnection& conn, const std::string& exchange,
                       const std::string& routing_key, const Properties& props,
                       const std::string& body);
// Contract properties for an event body.
Properties event_properties(const std::string& message_id, const std::string& type);

// One test's isolated world: its own vhost on the broker and its own Redis database.
class Sandbox {
 public:
  Sandbox();
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::string& vhost() const { return vhost_; }
  int redis_db() const { return db_; }
  std::string amqp_url() const;
  std::string redis_url() const;
  SyncRedis& redis() { return *redis_; }
  std::map<std::string, std::string> service_env() const;

  // Starts a service binary (special-offers, loyalty, ...) and waits until /healthz answers.
  std::unique_ptr<Service> start(const std::string& binary,
                                 std::map<std::string, std::string> extra_env = {},
                                 bool wait_ready = true);

  // An AMQP connection to this sandbox's vhost, channel 1 open (in confirm mode if asked).
  std::unique_ptr<AmqpConnection> connect_amqp(bool confirms = false);
  // Messages in a queue, ready and unacknowledged.
  uint32_t queue_depth(const std::string& queue);
  // Takes (and acknowledges) up to max messages from a queue, waiting up to deadline for them.
  std::vector<Message> drain(const std::string& queue, size_t max,
                             std::chrono::milliseconds deadline);
  HttpResponse management(const std::string& method, const std::string& path,
                          const std::string& body = "");
  std::string log_path(const std::string& name) const;

 private:
  std::string vhost_;
  int db_;
  std::unique_ptr<SyncRedis> redis_;
};

}  // namespace offers::test
