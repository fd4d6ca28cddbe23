#pragma once

#include <string>
#include <vector>

namespace offers::test {

// A RabbitMQ cluster of this test process's own (scripts/lib/cluster.sh), on free ports, with the
// quorum definitions imported. Starting it makes node 1 the broker of every Sandbox of this
// process, so it must come before the first Sandbox. Its folder lies in the state folder of
// scripts/test, which stops whatever is left there (and removes partition rules left behind).
class Cluster {
 public:
  // Cuts one node off from its peers and from its clients (AMQP) while it lives; healed when it
  // goes, whatever way the test leaves.
  class Partition {
   public:
    Partition(Cluster& cluster, size_t node);
    ~Partition();
    Partition(const Partition&) = delete;
    Partition& operator=(const Partition&) = delete;

   private:
    Cluster& cluster_;
  };

  struct Node {
    std::string name;
    int amqp = 0;
    int mgmt = 0;
  };

  explicit Cluster(int nodes = 3);
  // The one cluster of this process, started on first use (booting three nodes costs more than
  // most scenarios). Each call first brings back whatever an earlier test left: a partition is
  // healed, a dead node restarted, and every node runs its applications again.
  static Cluster& shared();
  // Whether this process may set the packet filter rules of a partition (root and iptables).
  static bool can_partition();
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const std::vector<Node>& nodes() const { return nodes_; }
  std::vector<int> amqp_ports() const;
  // Node numbers count from 0.
  void kill9(size_t node);
  void restart(size_t node);  // after a kill or a stop; it rejoins the cluster
  void stop(size_t node);     // a clean stop
  void heal();                // removes a partition's rules, if any
  // Node runs its applications: neither dead nor paused (a minority node under pause_minority).
  bool running(size_t node) const;
  // Node observer counts node among the cluster's running nodes.
  bool sees_running(size_t observer, size_t node) const;
  // Heals, restarts dead nodes and waits until every node runs and sees the others.
  void recover();
  // The node a client connection with this name (connection_name) is on, or -1.
  int node_of_connection(const std::string& vhost, const std::string& connection_name) const;
  // The node of a quorum queue's leader, or -1.
  int leader_of(const std::string& vhost, const std::string& queue) const;
  // An answer from the management API of any running node.
  std::string management_get(const std::string& path) const;

 private:
  int index_of(const std::string& node_name) const;
  void run(const std::string& args) const;
  bool succeeds(const std::string& args) const;

  std::string dir_;
  std::vector<Node> nodes_;
};

}  // namespace offers::test
