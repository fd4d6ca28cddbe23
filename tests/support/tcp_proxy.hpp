#pragma once

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace offers::test {

// A TCP proxy on 127.0.0.1 in front of another local port, for network faults between a service
// and the broker: cut (close every connection), reset (RST every connection) and stall (stop
// forwarding without closing, as a dead network path does).
class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void cut();
  void reset();
  void stall(bool on);
  int connections();

 private:
  struct Pair {
    int client;
    int upstream;
  };
  void run();
  void close_all(bool rst);

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stalled_{false};
  std::atomic<int> pending_close_{0};  // 1 cut, 2 reset
  std::mutex mu_;
  std::vector<Pair> pairs_;
  std::thread thread_;
};

}  // namespace offers::test
