#include "tests/support/harness.hpp"

#include <amqp_framing.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <stdexcept>

#include "tests/support/wait.hpp"

#ifndef OFFERS_BUILD_DIR
#error "OFFERS_BUILD_DIR must be defined"
#endif
#ifndef OFFERS_SOURCE_DIR
#error "OFFERS_SOURCE_DIR must be defined"
#endif

namespace offers::test {
namespace {

std::string need_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: run the tests through scripts/test, which starts the "
                             "broker and Redis they need");
  }
  return v;
}

}  // namespace

const Infra& Infra::get() {
  static const Infra infra = [] {
    Infra i;
    i.amqp_port = std::stoi(need_env("OFFERS_TEST_AMQP_PORT"));
    i.mgmt_port = std::stoi(need_env("OFFERS_TEST_MGMT_PORT"));
    i.redis_port = std::stoi(need_env("OFFERS_TEST_REDIS_PORT"));
    i.rabbit_node = need_env("OFFERS_TEST_RABBIT_NODE");
    i.state_dir = need_env("OFFERS_TEST_STATE");
    return i;
  }();
  return infra;
}

std::string url_encode(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.') {
      out.push_back(static_cast<char>(c));
    } else {
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

int rabbitmqctl(const std::string& args) {
  const std::string cmd =
      "rabbitmqctl -q -n " + Infra::get().rabbit_node + " " + args + " >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

std::string bin_path(const std::string& name) {
  return std::string(OFFERS_BUILD_DIR) + "/bin/" + name;
}
std::string source_path(const std::string& rel) {
  return std::string(OFFERS_SOURCE_DIR) + "/" + rel;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

CommandResult run_command(const std::string& command) {
  CommandResult r{-1, ""};
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

int free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

Service::Service(std::string name, const std::string& binary,
                 std::map<std::string, std::string> env, const std::string& log_path)
    : name_(std::move(name)), binary_(binary), log_path_(log_path), env_(std::move(env)) {
  port_ = free_tcp_port();
  env_["HTTP_PORT"] = std::to_string(port_);
  proc_ = std::make_unique<Process>(binary_, env_, log_path_);
}

Service::~Service() {
  if (std::uncaught_exceptions() > 0) {
    const std::string log = proc_->log();
    std::fprintf(stderr, "---- %s log (last 4000 bytes) ----\n%s\n", name_.c_str(),
                 log.substr(log.size() > 4000 ? log.size() - 4000 : 0).c_str());
  }
}

bool Service::wait_healthy(std::chrono::milliseconds deadline) {
  return wait_until([&] { return proc_->running() && get("/healthz").status == 200; }, deadline);
}

bool Service::wait_ready(std::chrono::milliseconds deadline) {
  return wait_until([&] { return proc_->running() && get("/readyz").status == 200; }, deadline);
}

int Service::terminate(std::chrono::milliseconds deadline) {
  proc_->signal(SIGTERM);
  const auto code = proc_->wait_exit(deadline);
  return code ? *code : -1;
}

void Service::kill9() {
  proc_->signal(SIGKILL);
  proc_->wait_exit(std::chrono::seconds(10));
}

void Service::restart() {
  if (proc_->running()) kill9();
  proc_ = std::make_unique<Process>(binary_, env_, log_path_);
}

double metric(Service& svc, const std::string& series) {
  const std::string text = svc.get("/metrics").body;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

PrivateRedis::PrivateRedis(const std::string& name) {
  dir_ = Infra::get().state_dir + "/redis-" + name + "-" + std::to_string(getpid());
  mkdir(dir_.c_str(), 0755);
  port_ = free_tcp_port();
  start();
}

PrivateRedis::~PrivateRedis() { proc_.reset(); }

std::string PrivateRedis::url(int db) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

void PrivateRedis::start() {
  proc_ = std::make_unique<Process>(
      "redis-server", std::map<std::string, std::string>{}, dir_ + "/redis.log",
      std::vector<std::string>{"--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir",
                               dir_, "--appendonly", "yes", "--appendfsync", "always", "--save",
                               ""});
  if (!wait_up(std::chrono::seconds(10))) throw std::runtime_error("private redis did not start");
}

void PrivateRedis::kill9() {
  proc_->signal(SIGKILL);
  proc_->wait_exit(std::chrono::seconds(10));
}

bool PrivateRedis::wait_up(std::chrono::milliseconds deadline) {
  return wait_until(
      [&] {
        try {
          SyncRedis r(RedisEndpoint{"127.0.0.1", port_, 0, ""}, std::chrono::seconds(1));
          r.command({"PING"});
          return true;
        } catch (const RedisError&) {
          return false;
        }
      },
      deadline, std::chrono::milliseconds(50));
}

namespace {
class AckSink : public FrameSink {
 public:
  bool acked = false;
  void on_method(uint16_t, amqp_method_number_t id, const void*) override {
    if (id == AMQP_BASIC_ACK_METHOD) acked = true;
    if (id == AMQP_BASIC_NACK_METHOD) throw std::runtime_error("publish nacked");
  }
  void on_message(Message&&) override {}
};
}  // namespace

void publish_confirmed(AmqpConnection& conn, const std::string& exchange,
                       const std::string& routing_key, const Properties& props,
                       const std::string& body) {
  conn.publish(1, exchange, routing_key, false, props, body);
  AckSink sink;
  const bool ok = wait_until(
      [&] {
        pollfd pfd{conn.fd(), POLLIN, 0};
        if (!conn.has_buffered()) poll(&pfd, 1, 20);
        conn.pump(sink);
        return sink.acked;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(0));
  if (!ok) throw std::runtime_error("no publish confirm");
}

Properties event_properties(const std::string& message_id, const std::string& type) {
  Properties p;
  p.content_type = "application/json";
  p.delivery_mode = 2;
  if (!message_id.empty()) p.message_id = message_id;
  p.type = type;
  p.app_id = "special-offers";
  p.headers.push_back({"x-schema-version", HeaderValue{int64_t{1}}});
  return p;
}

Sandbox::Sandbox() {
  const Infra& infra = Infra::get();
  static std::atomic<int> counter{0};
  SyncRedis admin(RedisEndpoint{"127.0.0.1", infra.redis_port, 0, ""}, std::chrono::seconds(5));
  const long long n = admin.command({"INCR", "test:sandboxes"})->integer;
  db_ = static_cast<int>(1 + n % 4000);
  vhost_ =
      "t" + std::to_string(n) + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  redis_ = std::make_unique<SyncRedis>(RedisEndpoint{"127.0.0.1", infra.redis_port, db_, ""},
                                       std::chrono::seconds(5));
  redis_->command({"FLUSHDB"});
  const auto v = management("PUT", "/api/vhosts/" + url_encode(vhost_), "{}");
  if (v.status != 201 && v.status != 204)
    throw std::runtime_error("cannot create vhost: " + v.body);
  const auto p = management("PUT", "/api/permissions/" + url_encode(vhost_) + "/guest",
                            R"({"configure":".*","write":".*","read":".*"})");
  if (p.status != 201 && p.status != 204) throw std::runtime_error("cannot grant vhost: " + p.body);
}

Sandbox::~Sandbox() {
  management("DELETE", "/api/vhosts/" + url_encode(vhost_));
  try {
    redis_->command({"FLUSHDB"});
  } catch (const std::exception&) {
  }
}

std::string Sandbox::amqp_url() const {
  return "amqp://guest:guest@127.0.0.1:" + std::to_string(Infra::get().amqp_port) + "/" +
         url_encode(vhost_);
}

std::string Sandbox::redis_url() const {
  return "redis://127.0.0.1:" + std::to_string(Infra::get().redis_port) + "/" + std::to_string(db_);
}

std::map<std::string, std::string> Sandbox::service_env() const {
  return {{"AMQP_URL", amqp_url()},
          {"REDIS_URL", redis_url()},
          {"RECONNECT_MIN", "100ms"},
          {"RECONNECT_MAX", "1s"},
          {"AMQP_HEARTBEAT", "5"},
          // No test reads the feed of a special-offers it did not start: the tests that catch up
          // say so, with the FEED_URL of their own (an empty value means the program's default).
          {"CATCH_UP", "off"}};
}

std::string Sandbox::log_path(const std::string& name) const {
  return Infra::get().state_dir + "/logs/" + vhost_ + "-" + name + ".log";
}

std::unique_ptr<Service> Sandbox::start(const std::string& binary,
                                        std::map<std::string, std::string> extra_env,
                                        bool wait_ready) {
  auto env = service_env();
  for (auto& [k, v] : extra_env) env[k] = v;
  auto svc = std::make_unique<Service>(binary, bin_path(binary), env, log_path(binary));
  if (!svc->wait_healthy(std::chrono::seconds(20))) {
    throw std::runtime_error(binary + " did not become healthy:\n" + svc->process().log());
  }
  if (wait_ready && !svc->wait_ready(std::chrono::seconds(20))) {
    throw std::runtime_error(binary + " did not become ready:\n" + svc->process().log());
  }
  return svc;
}

std::unique_ptr<AmqpConnection> Sandbox::connect_amqp(bool confirms) {
  auto conn = std::make_unique<AmqpConnection>();
  AmqpEndpoint ep;
  ep.host = "127.0.0.1";
  ep.port = Infra::get().amqp_port;
  ep.vhost = vhost_;
  conn->open(ep, 0, std::chrono::seconds(5), "test");
  conn->open_channel(1);
  if (confirms) conn->confirm_select(1);
  return conn;
}

uint32_t Sandbox::queue_depth(const std::string& queue) {
  auto conn = connect_amqp();
  return conn->queue_message_count(1, queue);
}

std::vector<Message> Sandbox::drain(const std::string& queue, size_t max,
                                    std::chrono::milliseconds deadline) {
  std::unique_ptr<AmqpConnection> conn;
  std::vector<Message> out;
  wait_until(
      [&] {
        try {
          if (!conn) conn = connect_amqp();
          while (out.size() < max) {
            auto m = conn->get(1, queue);
            if (!m) return false;
            conn->ack(1, m->delivery_tag, false);
            out.push_back(std::move(*m));
          }
          return true;
        } catch (const AmqpError&) {
          conn.reset();  // the queue is not declared yet, or the broker is restarting
          return false;
        }
      },
      deadline, std::chrono::milliseconds(50));
  return out;
}

HttpResponse Sandbox::management(const std::string& method, const std::string& path,
                                 const std::string& body) {
  return http_request(Infra::get().mgmt_port, method, path, body, {}, "guest:guest");
}

}  // namespace offers::test
