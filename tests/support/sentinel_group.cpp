#include "tests/support/sentinel_group.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <stdexcept>

#include "shared/redis/redis_sync.hpp"
#include "shared/redis/sentinel.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/wait.hpp"

namespace offers::test {
namespace {

using namespace std::chrono_literals;

bool answers(int port) {
  try {
    SyncRedis r(RedisEndpoint{"127.0.0.1", port, 0, ""}, 1s);
    r.command({"PING"});
    return true;
  } catch (const RedisError&) {
    return false;
  }
}

std::vector<std::string> server_args(int port, const std::string& dir) {
  return {"--port",
          std::to_string(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--appendonly",
          "yes",
          "--appendfsync",
          "always",
          "--save",
          "",
          "--repl-diskless-sync-delay",
          "0"};
}

}  // namespace

SentinelGroup::SentinelGroup(int replicas) {
  static std::atomic<int> counter{0};
  master_name_ = "m" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  dir_ = Infra::get().state_dir + "/sentinel-" + master_name_;
  mkdir(dir_.c_str(), 0755);
  for (int i = 0; i <= replicas; ++i) {
    Node n;
    n.port = free_tcp_port();
    n.dir = dir_ + "/redis" + std::to_string(i);
    mkdir(n.dir.c_str(), 0755);
    nodes_.push_back(std::move(n));
  }
  start(0);
  for (int i = 1; i <= replicas; ++i) start(i, nodes_[0].port);
  for (int i = 1; i <= replicas; ++i) {
    if (!wait_replica_synced(nodes_[static_cast<size_t>(i)].port, 20s)) {
      throw std::runtime_error("a replica did not sync with its master");
    }
  }
  for (int i = 0; i < 3; ++i) {
    Node s;
    s.port = free_tcp_port();
    s.dir = dir_ + "/sentinel" + std::to_string(i);
    mkdir(s.dir.c_str(), 0755);
    const std::string conf = s.dir + "/sentinel.conf";
    std::ofstream(conf) << "port " << s.port << "\nbind 127.0.0.1\ndir " << s.dir
                        << "\nsentinel monitor " << master_name_ << " 127.0.0.1 " << nodes_[0].port
                        << " 2\nsentinel down-after-milliseconds " << master_name_
                        << " 1000\nsentinel failover-timeout " << master_name_
                        << " 3000\nsentinel parallel-syncs " << master_name_ << " 1\n";
    s.proc = std::make_unique<Process>("redis-server", std::map<std::string, std::string>{},
                                       s.dir + "/sentinel.log",
                                       std::vector<std::string>{conf, "--sentinel"});
    sentinels_.push_back(std::move(s));
  }
  // Ready once every sentinel knows the master and has found the replica.
  const bool ready = wait_until(
      [&] {
        for (const auto& s : sentinels_) {
          try {
            SyncRedis r(RedisEndpoint{"127.0.0.1", s.port, 0, ""}, 1s);
            const auto reply = r.command({"SENTINEL", "REPLICAS", master_name_});
            if (reply->type != REDIS_REPLY_ARRAY || static_cast<int>(reply->elements) != replicas) {
              return false;
            }
          } catch (const RedisError&) {
            return false;
          }
        }
        return true;
      },
      30s, 100ms);
  if (!ready) throw std::runtime_error("the sentinels did not find the master and its replica");
}

SentinelGroup::~SentinelGroup() {
  for (auto& s : sentinels_) s.proc.reset();
  for (auto& n : nodes_) n.proc.reset();
}

std::string SentinelGroup::sentinels() const {
  std::string list;
  for (const auto& s : sentinels_) {
    list += (list.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(s.port);
  }
  return list;
}

RedisEndpoint SentinelGroup::endpoint() const {
  RedisEndpoint e{"127.0.0.1", nodes_[0].port, 0, ""};
  e.sentinels = parse_host_ports("sentinels", sentinels());
  e.master_name = master_name_;
  return e;
}

int SentinelGroup::master_port() const {
  std::string error;
  const auto where = ask_sentinels(endpoint(), 1s, error);
  return where ? where->port : 0;
}

int SentinelGroup::node_of(int port) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].port == port) return static_cast<int>(i);
  }
  throw std::runtime_error("no node at port " + std::to_string(port));
}

void SentinelGroup::kill9(int node) {
  auto& n = nodes_.at(static_cast<size_t>(node));
  if (!n.proc) return;
  n.proc->signal(SIGKILL);
  n.proc->wait_exit(10s);
}

void SentinelGroup::start(int node, int replica_of) {
  auto& n = nodes_.at(static_cast<size_t>(node));
  auto args = server_args(n.port, n.dir);
  if (replica_of != 0) {
    args.push_back("--replicaof");
    args.push_back("127.0.0.1");
    args.push_back(std::to_string(replica_of));
  }
  n.proc = std::make_unique<Process>("redis-server", std::map<std::string, std::string>{},
                                     n.dir + "/redis.log", args);
  if (!wait_until([&] { return answers(n.port); }, 10s, 20ms)) {
    throw std::runtime_error("redis node did not start");
  }
}

std::string SentinelGroup::role(int port) {
  try {
    SyncRedis r(RedisEndpoint{"127.0.0.1", port, 0, ""}, 1s);
    const auto reply = r.command({"ROLE"});
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
      return std::string(reply->element[0]->str, reply->element[0]->len);
    }
  } catch (const RedisError&) {
  }
  return "";
}

bool SentinelGroup::wait_failover(int old_port, std::chrono::milliseconds deadline) const {
  return wait_until(
      [&] {
        const int now = master_port();
        return now != 0 && now != old_port && role(now) == "master";
      },
      deadline, 50ms);
}

bool SentinelGroup::wait_replica_synced(int port, std::chrono::milliseconds deadline) const {
  return wait_until(
      [&] {
        try {
          SyncRedis r(RedisEndpoint{"127.0.0.1", port, 0, ""}, 1s);
          const auto info = r.command({"INFO", "replication"});
          const std::string text(info->str, info->len);
          return text.find("role:slave") != std::string::npos &&
                 text.find("master_link_status:up") != std::string::npos;
        } catch (const RedisError&) {
          return false;
        }
      },
      deadline, 50ms);
}

}  // namespace offers::test
