#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/harness.hpp"
#include "tests/support/sentinel_group.hpp"

namespace offers::test {

// How one subscriber came out of a scenario, sorted the way RabbitMQ's Jepsen checker sorts
// messages: lost (an acknowledged event whose effect is missing), duplicated (an effect applied
// more than once), recovered (an event written while the fault was on, applied once) and
// unexpected (an effect for an event the feed does not have).
struct Outcome {
  std::string subscriber;
  int events = 0;
  int lost = 0;
  int duplicated = 0;
  int recovered = 0;
  int unexpected = 0;
  int dead_lettered = 0;
};

// The whole system (broker vhost, Redis, the four services) under a steady stream of REST
// writes, with faults injected by the test, then brought back and checked against the event
// feed, the source of truth.
class Scenario {
 public:
  struct Options {
    Options(int w = 300) : writes(w) {}  // NOLINT: implicit on purpose, Scenario(name, {n})
    int writes;
    int writes_per_second = 150;  // a steady stream, so faults land mid-stream
    int amqp_port = 0;            // when set, the services reach the broker through this port
    // When set, AMQP_URL lists one URL per port (stand-ins for the nodes of a cluster).
    std::vector<int> amqp_ports;
    // Extra environment per service ("special-offers", "loyalty", ...).
    std::map<std::string, std::map<std::string, std::string>> env;
    bool private_redis = false;
    // This subscriber fails every event about an offer whose description says "poison".
    std::string poison_subscriber;
    // Services run as several processes: "special-offers", "special-offers#2", ... Writes go
    // to the special-offers replicas in turn; env applies to every replica of a service, and
    // an entry for one replica's own name adds to it.
    std::map<std::string, int> replicas;
    // Redis as a master, a replica and three sentinels of the scenario's own; the services find
    // the master through the sentinels and wait for this many replicas (REDIS_MIN_REPLICAS).
    bool sentinel_redis = false;
    int redis_min_replicas = 1;
    int redis_replicas = 1;
  };
  // How settle_and_check judges: a demonstration reports what it finds without asserting it,
  // and gives up sooner on effects that never come.
  struct Check {
    bool assert_clean = true;
    std::chrono::milliseconds quiet_deadline{std::chrono::seconds(120)};
  };

  Scenario(std::string name, Options options);
  ~Scenario();

  Sandbox& box() { return box_; }
  Service& service(const std::string& name) { return *services_.at(name); }
  PrivateRedis* redis() { return redis_.get(); }
  SentinelGroup* sentinel() { return sentinel_.get(); }
  static const std::vector<std::string>& subscribers();
  // The processes of one service: its name, then name#2, name#3...
  std::vector<std::string> replicas_of(const std::string& service) const;
  // Writes per scenario: OFFERS_FAILURE_WRITES, 300 by default (scripts/soak asks for more).
  static int default_writes();

  void start_writes();
  // Waits until n writes have been acknowledged (or every write has).
  void wait_writes(int n, std::chrono::milliseconds deadline = std::chrono::seconds(120));
  int acknowledged() const { return acknowledged_.load(); }
  void finish_writes();

  // The window of events written while a fault was on, for the recovered count.
  void fault_begins();
  void fault_ends();

  void kill_and_restart(const std::string& name);
  // SIGSTOP and SIGCONT; writes go to the other replicas meanwhile, as a load balancer whose
  // health checks fail would send them.
  void pause(const std::string& name);
  void resume(const std::string& name);
  // Starts the service again (killing it first if it runs) with its scenario environment, plus
  // and minus the given variables.
  void restart_with(const std::string& name, const std::map<std::string, std::string>& add,
                    const std::vector<std::string>& drop = {});
  // Waits for the service to die by itself (a fault point), then restarts it clean.
  void await_crash_and_restart(const std::string& name,
                               std::chrono::milliseconds deadline = std::chrono::seconds(60));

  // Brings every service back, waits until the system is quiet, classifies every event for
  // every subscriber, prints and records the table, and checks lost = duplicated = 0.
  std::vector<Outcome> settle_and_check();
  std::vector<Outcome> settle_and_check(Check check);
  // Prints a line and adds it to the failure report that scripts/test shows at the end.
  void note(const std::string& line);
  // Whether every service process still runs (none needed a restart).
  bool all_running();

 private:
  void writer();
  std::map<std::string, std::string> env_for(const std::string& name) const;

  std::string name_;
  Options options_;
  Sandbox box_;
  std::unique_ptr<PrivateRedis> redis_;
  std::unique_ptr<SentinelGroup> sentinel_;
  std::map<std::string, std::unique_ptr<Service>> services_;
  std::thread writer_;
  std::atomic<int> acknowledged_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<int64_t> created_ids_;  // offers whose POST was acknowledged
  std::set<std::string> paused_;
  int64_t fault_from_ = -1, fault_to_ = -1;
};

// Scenario::default_writes(), as the scenarios spell it.
inline int writes() { return Scenario::default_writes(); }

}  // namespace offers::test
