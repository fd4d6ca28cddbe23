#include "tests/support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "tests/support/http_client.hpp"
#include "tests/support/wait.hpp"

namespace offers::test {
namespace {

bool write_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("proxy cannot listen");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  thread_.join();
  close_all(false);
  close(listen_fd_);
}

void TcpProxy::cut() {
  pending_close_ = 1;
  wait_until([&] { return pending_close_ == 0; }, std::chrono::seconds(5),
             std::chrono::milliseconds(5));
}

void TcpProxy::reset() {
  pending_close_ = 2;
  wait_until([&] { return pending_close_ == 0; }, std::chrono::seconds(5),
             std::chrono::milliseconds(5));
}

void TcpProxy::stall(bool on) { stalled_ = on; }

int TcpProxy::connections() {
  std::lock_guard lock(mu_);
  return static_cast<int>(pairs_.size());
}

void TcpProxy::close_all(bool rst) {
  std::lock_guard lock(mu_);
  for (const auto& p : pairs_) {
    for (int fd : {p.client, p.upstream}) {
      if (rst) {
        linger l{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      }
      close(fd);
    }
  }
  pairs_.clear();
}

void TcpProxy::run() {
  char buf[65536];
  while (!stop_) {
    if (const int c = pending_close_.load(); c != 0) {
      close_all(c == 2);
      pending_close_ = 0;
    }
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    std::vector<Pair> pairs;
    {
      std::lock_guard lock(mu_);
      pairs = pairs_;
    }
    if (!stalled_) {
      for (const auto& p : pairs) {
        fds.push_back({p.client, POLLIN, 0});
        fds.push_back({p.upstream, POLLIN, 0});
      }
    }
    if (poll(fds.data(), fds.size(), 20) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client >= 0) {
        const int upstream = connect_loopback(target_port_);
        if (upstream < 0) {
          close(client);
        } else {
          std::lock_guard lock(mu_);
          pairs_.push_back({client, upstream});
        }
      }
    }
    std::vector<int> dead;
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const Pair& p = pairs[(i - 1) / 2];
      const int from = fds[i].fd;
      const int to = from == p.client ? p.upstream : p.client;
      const ssize_t n = recv(from, buf, sizeof buf, 0);
      if (n <= 0 || !write_all(to, buf, static_cast<size_t>(n))) dead.push_back(p.client);
    }
    if (!dead.empty()) {
      std::lock_guard lock(mu_);
      for (int d : dead) {
        for (auto it = pairs_.begin(); it != pairs_.end(); ++it) {
          if (it->client == d) {
            close(it->client);
            close(it->upstream);
            pairs_.erase(it);
            break;
          }
        }
      }
    }
  }
}

}  // namespace offers::test
