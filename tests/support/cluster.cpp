#include "tests/support/cluster.hpp"

#include <rapidjson/document.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "shared/common/json.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/wait.hpp"

namespace offers::test {

Cluster::Cluster(int nodes) {
  const char* state = std::getenv("OFFERS_TEST_STATE");
  if (state == nullptr) throw std::runtime_error("OFFERS_TEST_STATE is not set: run scripts/test");
  dir_ = std::string(state) + "/cluster-" + std::to_string(getpid());
  run("start " + shell_quote(dir_) + " " + std::to_string(nodes) + " " +
      shell_quote(source_path("rabbitmq/definitions-quorum.json")));
  std::ifstream ports(dir_ + "/ports");
  std::string line;
  while (std::getline(ports, line)) {
    std::istringstream in(line);
    Node n;
    int dist = 0;
    in >> n.name >> n.amqp >> n.mgmt >> dist;
    nodes_.push_back(n);
  }
  if (static_cast<int>(nodes_.size()) != nodes) throw std::runtime_error("cluster did not start");
  // Every Sandbox of this process lives on the cluster (Infra reads these once, on first use).
  setenv("OFFERS_TEST_AMQP_PORT", std::to_string(nodes_[0].amqp).c_str(), 1);
  setenv("OFFERS_TEST_MGMT_PORT", std::to_string(nodes_[0].mgmt).c_str(), 1);
  setenv("OFFERS_TEST_RABBIT_NODE", nodes_[0].name.c_str(), 1);
}

Cluster::~Cluster() {
  try {
    run("stop " + shell_quote(dir_));
  } catch (const std::exception&) {
  }
}

Cluster& Cluster::shared() {
  static Cluster cluster;
  static bool fresh = true;
  if (!fresh) cluster.recover();
  fresh = false;
  return cluster;
}

bool Cluster::can_partition() {
  const std::string cmd =
      "bash " + shell_quote(source_path("scripts/lib/cluster.sh")) + " can-partition";
  return std::system(cmd.c_str()) == 0;
}

void Cluster::recover() {
  using namespace std::chrono_literals;
  heal();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!succeeds("alive " + shell_quote(dir_) + " " + std::to_string(i + 1))) restart(i);
  }
  const bool all = wait_until(
      [&] {
        for (size_t i = 0; i < nodes_.size(); ++i) {
          if (!running(i) || !sees_running((i + 1) % nodes_.size(), i)) return false;
        }
        return true;
      },
      180s, 1s);
  if (!all) throw std::runtime_error("the cluster did not come back whole after an earlier test");
}

bool Cluster::succeeds(const std::string& args) const {
  const std::string cmd = "bash " + shell_quote(source_path("scripts/lib/cluster.sh")) + " " +
                          args + " >>" + shell_quote(dir_ + ".log") + " 2>&1";
  return std::system(cmd.c_str()) == 0;
}

void Cluster::run(const std::string& args) const {
  if (!succeeds(args)) {
    std::ifstream log(dir_ + ".log");
    std::stringstream ss;
    ss << log.rdbuf();
    throw std::runtime_error("cluster.sh " + args + " failed:\n" + ss.str());
  }
}

std::vector<int> Cluster::amqp_ports() const {
  std::vector<int> out;
  for (const auto& n : nodes_) out.push_back(n.amqp);
  return out;
}

void Cluster::kill9(size_t node) {
  run("kill " + shell_quote(dir_) + " " + std::to_string(node + 1));
}
void Cluster::restart(size_t node) {
  run("restart " + shell_quote(dir_) + " " + std::to_string(node + 1));
}
void Cluster::stop(size_t node) {
  run("stop-node " + shell_quote(dir_) + " " + std::to_string(node + 1));
}

void Cluster::heal() { run("heal " + shell_quote(dir_)); }

bool Cluster::running(size_t node) const {
  return succeeds("running " + shell_quote(dir_) + " " + std::to_string(node + 1));
}

bool Cluster::sees_running(size_t observer, size_t node) const {
  const auto r =
      http_request(nodes_.at(observer).mgmt, "GET",
                   "/api/nodes/" + url_encode(nodes_.at(node).name), "", {}, "guest:guest");
  rapidjson::Document d;
  std::string error;
  return r.status == 200 && parse_json(r.body, d, error) && d.IsObject() &&
         d.HasMember("running") && d["running"].IsBool() && d["running"].GetBool();
}

Cluster::Partition::Partition(Cluster& cluster, size_t node) : cluster_(cluster) {
  cluster_.run("partition " + shell_quote(cluster_.dir_) + " " + std::to_string(node + 1));
}

Cluster::Partition::~Partition() {
  try {
    cluster_.heal();
  } catch (const std::exception&) {
  }
}

std::string Cluster::management_get(const std::string& path) const {
  for (const auto& n : nodes_) {
    const auto r = http_request(n.mgmt, "GET", path, "", {}, "guest:guest");
    if (r.status == 200) return r.body;
  }
  return "";
}

int Cluster::index_of(const std::string& node_name) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].name == node_name) return static_cast<int>(i);
  }
  return -1;
}

int Cluster::node_of_connection(const std::string& vhost,
                                const std::string& connection_name) const {
  rapidjson::Document d;
  std::string error;
  if (!parse_json(management_get("/api/vhosts/" + url_encode(vhost) + "/connections"), d, error) ||
      !d.IsArray()) {
    return -1;
  }
  for (const auto& c : d.GetArray()) {
    if (!c.HasMember("client_properties") || !c["client_properties"].IsObject()) continue;
    const auto& props = c["client_properties"];
    if (props.HasMember("connection_name") && props["connection_name"].IsString() &&
        props["connection_name"].GetString() == connection_name) {
      return index_of(c["node"].GetString());
    }
  }
  return -1;
}

int Cluster::leader_of(const std::string& vhost, const std::string& queue) const {
  rapidjson::Document d;
  std::string error;
  if (!parse_json(management_get("/api/queues/" + url_encode(vhost) + "/" + url_encode(queue)), d,
                  error) ||
      !d.IsObject() || !d.HasMember("leader") || !d["leader"].IsString()) {
    return -1;
  }
  return index_of(d["leader"].GetString());
}

}  // namespace offers::test
