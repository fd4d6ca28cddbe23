#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "shared/common/settings.hpp"
#include "tests/support/process.hpp"

namespace offers::test {

// A test's own replicated Redis: a master, its replicas and three sentinels watching them under a
// master name of their own, with short timeouts (down after 1 s) so that a failover takes a few
// seconds. The nodes keep their ports when killed and started again.
class SentinelGroup {
 public:
  explicit SentinelGroup(int replicas = 1);
  ~SentinelGroup();

  const std::string& master_name() const { return master_name_; }
  // REDIS_SENTINELS for the services.
  std::string sentinels() const;
  // A client endpoint through the sentinels (db 0).
  RedisEndpoint endpoint() const;
  // The port of the master the sentinels name now.
  int master_port() const;
  // The data nodes' ports: node 0 starts as the master, the others as its replicas.
  int port(int node) const { return nodes_[static_cast<size_t>(node)].port; }
  int node_of(int port) const;
  void kill9(int node);
  // Starts a node (again, with its data), as a replica of the given port if not 0; without it
  // a former master comes back as a master until the sentinels make it a replica.
  void start(int node, int replica_of = 0);
  // Until the sentinels name a master other than old_port and it says it is a master.
  bool wait_failover(int old_port, std::chrono::milliseconds deadline) const;
  // Until the node at port is a replica with its link to the master up.
  bool wait_replica_synced(int port, std::chrono::milliseconds deadline) const;
  // What ROLE says at port: "master", "slave", or "" when unreachable.
  static std::string role(int port);

 private:
  struct Node {
    int port = 0;
    std::string dir;
    std::unique_ptr<Process> proc;
  };
  std::string master_name_;
  std::string dir_;
  std::vector<Node> nodes_;      // 0 starts as master, the others as its replicas
  std::vector<Node> sentinels_;  // three
};

}  // namespace offers::test
