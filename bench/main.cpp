// offers-bench: this system against the raw broker ceiling on the same machine, in one run.
// Started by scripts/bench, which provides a throwaway broker and Redis (OFFERS_TEST_* variables).
#include <rapidjson/document.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bench/cpu_usage.hpp"
#include "bench/failover.hpp"
#include "bench/figures.hpp"
#include "bench/raw_path.hpp"
#include "bench/takeover.hpp"
#include "shared/amqp/topology.hpp"
#include "shared/common/envelope.hpp"
#include "shared/common/json.hpp"
#include "shared/common/numbers.hpp"
#include "tests/support/cluster.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sentinel_group.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::bench;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

struct Options {
  long events = 20000;    // raw ceiling
  long backlog = 100000;  // subscriber drain, per queue
  long e2e = 20000;       // end-to-end writes
  int clients = 64;       // concurrent HTTP clients: enough to keep both cores busy
  double rate = 1000;     // fixed-rate test, events/s
  double seconds = 5;     // fixed-rate test length
  int prefetch = 500;
  long feed = 100000;  // feed catch-up: events in the outbox a fresh subscriber reads
  std::string json_path;
  std::string sections = "raw,drain,e2e,wrk,fixed,feed,takeover,failover";
  double wrk_seconds = 10;        // the wrk round's length
  bool idempotency_keys = false;  // every POST carries a new Idempotency-Key
  int rounds = 3;            // the machine's speed drifts: each figure is the median of the rounds
  int takeovers = 5;         // relay kills per round
  std::string lease = "5s";  // RELAY_LEASE for the takeover figure
  // "single": the broker scripts/bench started; "cluster": a three-node cluster of the bench's
  // own with quorum queues.
  std::string broker = "single";
  // "single": the Redis scripts/bench started; "sentinel": the end-to-end runs also go through
  // Sentinel to a master with a replica (REDIS_MIN_REPLICAS 0 and 1), and the failover gap is
  // measured.
  std::string redis = "single";
  int failovers = 3;  // master kills for the failover gap
  QueueType queue_type() const {
    return broker == "cluster" ? QueueType::Quorum : QueueType::Classic;
  }
  std::map<std::string, std::string> service_env() const {
    if (broker == "cluster") return {{"QUEUE_TYPE", "quorum"}};
    return {};
  }
  bool run(const std::string& section) const { return sections.find(section) != std::string::npos; }
};

AmqpEndpoint endpoint(const Sandbox& box) {
  AmqpEndpoint ep;
  ep.host = "127.0.0.1";
  ep.port = Infra::get().amqp_port;
  ep.vhost = box.vhost();
  return ep;
}

void declare(Sandbox& box, QueueType type) {
  auto c = box.connect_amqp();
  declare_topology(*c, 1, type, 20);
}

double applied(Service& s) { return metric(s, "deliveries_total{result=\"applied\"}"); }

// When each subscriber was first seen working and when it was seen done (now_seconds()).
struct Progress {
  std::map<std::string, double> first, done;
  // count events over the time from the first sign of work (or from start-up, for a subscriber
  // that finished within one poll) to done.
  double rate(const std::string& name, double count, double started) const {
    const double end = done.at(name);
    const auto f = first.find(name);
    const double from = f != first.end() && end > f->second ? f->second : started;
    return count / (end - from);
  }
};

// Polls every subscriber until each is done; throws when one is not within ten minutes.
Progress watch_progress(const std::map<std::string, std::unique_ptr<Service>>& subs,
                        const std::function<bool(Service&)>& working,
                        const std::function<bool(Service&)>& finished) {
  Progress p;
  wait_until(
      [&] {
        const double t = now_seconds();
        for (auto& [name, svc] : subs) {
          if (p.done.count(name)) continue;
          if (!p.first.count(name) && working(*svc)) p.first[name] = t;
          if (finished(*svc)) p.done[name] = t;
        }
        return p.done.size() == subs.size();
      },
      std::chrono::seconds(600), 50ms);
  for (auto& [name, svc] : subs) {
    if (!p.done.count(name)) throw std::runtime_error(name + " did not finish within ten minutes");
  }
  return p;
}

// The broker and Redis started by scripts/bench, watched for CPU.
CpuUsage servers_cpu() {
  CpuUsage cpu;
  cpu.watch("broker", pid_in_file(Infra::get().state_dir + "/rabbit/rabbit.pid"));
  cpu.watch("Redis", pid_in_file(Infra::get().state_dir + "/redis/redis.pid"));
  return cpu;
}

// Microseconds of CPU per event (a delivery to one queue in the drains, a POST end to end) for
// each watched process, and the cores busy in all.
void add_cpu(Report& rep, const std::string& section, const CpuUsage& cpu, double events,
             double seconds) {
  double total = 0;
  for (const auto& [name, used] : cpu.since_start()) {
    rep.add(section, name + " CPU per event", used / events * 1e6, "us");
    total += used;
  }
  rep.add(section, "cores busy", total / seconds, "cores");
  rep.add(section, "machine time stolen by the hypervisor", 100 * cpu.stolen_since_start(), "%");
}

std::string machine() {
  std::string model = "unknown cpu";
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname u{};
  uname(&u);
  return std::to_string(std::thread::hardware_concurrency()) + " cores, " + model + ", " +
         std::to_string(sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGE_SIZE) / (1 << 30)) + " GiB, " +
         u.sysname + " " + u.release;
}

// Microseconds since the epoch of an ISO-8601 UTC time such as 2026-11-21T10:00:00.123456Z.
int64_t epoch_us(const std::string& iso) {
  std::tm tm{};
  tm.tm_year = std::stoi(iso.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(iso.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(iso.substr(8, 2));
  tm.tm_hour = std::stoi(iso.substr(11, 2));
  tm.tm_min = std::stoi(iso.substr(14, 2));
  tm.tm_sec = std::stoi(iso.substr(17, 2));
  std::string fraction = iso.substr(20, iso.size() - 21);
  fraction.resize(6, '0');
  return static_cast<int64_t>(timegm(&tm)) * 1000000 + std::stoll(fraction);
}

int64_t system_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// When each POST left the client and when its 201 came back, by the offer id it created.
struct SendTimes {
  struct Times {
    int64_t sent_us, answered_us;
  };
  std::mutex mu;
  std::map<int64_t, Times> by_offer;
  bool with_keys = false;
  std::atomic<long> keys{0};
  // Sends the POST and notes its times.
  void post(HttpConnection& http) {
    std::map<std::string, std::string> headers;
    if (with_keys) headers["Idempotency-Key"] = "bench-" + std::to_string(keys++);
    const int64_t sent = system_now_us();
    const auto r =
        http.request("POST", "/offers", R"({"description":"Two coffees for one"})", headers);
    const int64_t answered = system_now_us();
    const std::string location = r.header("location");  // /offers/<id>
    if (r.status != 201 || location.size() < 8) return;
    std::lock_guard lock(mu);
    by_offer[std::stoll(location.substr(8))] = Times{sent, answered};
  }
};

// Where the time goes between a POST and its notification: the write (until the 201) and the
// rest (outbox relay, broker, subscriber).
struct WriteToHandled {
  Percentiles total, write, after_write;
};

// Write-to-handled latency through the notifications subscriber, in microseconds: from the moment
// the client sent the POST to the notification's sentAt, stamped when the subscriber built the
// effect it then writes to Redis. Same machine, same clock.
WriteToHandled notification_latencies(Service& notifications, SendTimes& sent) {
  rapidjson::Document notes;
  std::string error;
  parse_json(notifications.get("/notifications?limit=10000").body, notes, error);
  std::vector<double> total, write, after;
  for (const auto& note : notes.GetArray()) {
    auto it = sent.by_offer.find(note["offerId"].GetInt64());
    if (it == sent.by_offer.end()) continue;
    const int64_t handled = epoch_us(note["sentAt"].GetString());
    total.push_back(static_cast<double>(handled - it->second.sent_us));
    write.push_back(static_cast<double>(it->second.answered_us - it->second.sent_us));
    after.push_back(static_cast<double>(handled - it->second.answered_us));
  }
  return {percentiles(total), percentiles(write), percentiles(after)};
}

struct RawCeiling {
  double publish_rate, delivery_rate;
  Percentiles latency;
  double broker_cpu_us, publisher_and_consumers_cpu_us;  // per event
};

// One run of wrk against url with its default headers, posting an offer per request.
struct WrkRun {
  double requests_per_second = 0;
  long requests = 0;
  long non_2xx = 0;
  bool ran = false;
};

WrkRun run_wrk(const std::string& url, double seconds, int connections) {
  const std::string script = std::string(OFFERS_BUILD_DIR) + "/bench-wrk-post.lua";
  std::ofstream(script) << "wrk.method = \"POST\"\n"
                           "wrk.body = '{\"description\":\"Two coffees for one\"}'\n"
                           "wrk.headers[\"Content-Type\"] = \"application/json\"\n";
  const std::string cmd = "wrk -t2 -c" + std::to_string(connections) + " -d" +
                          std::to_string(static_cast<long>(seconds)) + "s -s " +
                          shell_quote(script) + " " + url + " 2>&1";
  WrkRun r;
  FILE* out = popen(cmd.c_str(), "r");
  if (out == nullptr) return r;
  char line[512];
  while (std::fgets(line, sizeof line, out)) {
    std::fputs(line, stderr);
    std::sscanf(line, " Requests/sec: %lf", &r.requests_per_second);
    std::sscanf(line, " %ld requests in", &r.requests);
    std::sscanf(line, " Non-2xx or 3xx responses: %ld", &r.non_2xx);
  }
  r.ran = pclose(out) == 0 && r.requests > 0;
  return r;
}

RawCeiling raw_path(long n, double rate, int prefetch, QueueType type) {
  Sandbox box;
  declare(box, type);
  const auto ep = endpoint(box);
  std::vector<Drain> drains(kSubscribers.size());
  std::vector<std::thread> consumers;
  for (size_t i = 0; i < kSubscribers.size(); ++i) {
    consumers.emplace_back(
        [&, i] { drains[i] = raw_consume(ep, std::string(kSubscribers[i]), n, prefetch); });
  }
  CpuUsage cpu = servers_cpu();
  cpu.watch("bench", getpid());
  cpu.start();
  const double start = now_seconds();
  const double publish_seconds = raw_publish(ep, n, 512, rate);
  for (auto& t : consumers) t.join();
  const double all_delivered = now_seconds() - start;
  const auto used = cpu.since_start();
  std::vector<double> latency;
  for (auto& d : drains) latency.insert(latency.end(), d.latency_us.begin(), d.latency_us.end());
  const double events = static_cast<double>(n);
  return {events / publish_seconds, 3.0 * events / all_delivered, percentiles(latency),
          used.at("broker") / events * 1e6, used.at("bench") / events * 1e6};
}

}  // namespace

// One round of every chosen section; its figures and ratios.
Report run_round(const Options& o) {
  Report rep;

  // 1. The raw ceiling.
  RawCeiling raw{0, 0, {}, 0, 0};
  if (o.run("raw")) {
    std::fprintf(stderr, "raw ceiling: %ld events to 3 queues\n", o.events);
    raw = raw_path(o.events, 0, o.prefetch, o.queue_type());
    rep.add("raw ceiling (rabbitmq-c, no Redis)", "published and confirmed", raw.publish_rate,
            "events/s");
    rep.add("raw ceiling (rabbitmq-c, no Redis)", "deliveries (3 queues)", raw.delivery_rate,
            "deliveries/s");
    rep.add("raw ceiling (rabbitmq-c, no Redis)", "broker CPU per event", raw.broker_cpu_us, "us");
    rep.add("raw ceiling (rabbitmq-c, no Redis)", "publisher and consumers CPU per event",
            raw.publisher_and_consumers_cpu_us, "us");
  }

  // 2. Draining a backlog: raw consumers, then the real subscribers, on the same backlog size.
  if (o.run("drain")) std::fprintf(stderr, "drain: %ld events per queue\n", o.backlog);
  double raw_drain = 0;
  if (o.run("drain")) {
    Sandbox box;
    declare(box, o.queue_type());
    raw_publish(endpoint(box), o.backlog, 512, 0, Bodies::Distinct);
    CpuUsage cpu = servers_cpu();
    cpu.watch("raw consumers", getpid());
    cpu.start();
    const double started = now_seconds();
    std::vector<Drain> drains(kSubscribers.size());
    std::vector<std::thread> consumers;
    for (size_t i = 0; i < kSubscribers.size(); ++i) {
      consumers.emplace_back([&, i] {
        drains[i] = raw_consume(endpoint(box), std::string(kSubscribers[i]), o.backlog, o.prefetch);
      });
    }
    for (auto& t : consumers) t.join();
    const double seconds = now_seconds() - started;
    // The slowest queue, as for the subscribers: the same statistic on both sides.
    raw_drain = 1e18;
    for (auto& d : drains) {
      raw_drain = std::min(raw_drain, static_cast<double>(o.backlog) / d.seconds);
    }
    rep.add("subscriber drain", "raw consumer, slowest queue", raw_drain, "events/s");
    add_cpu(rep, "where the CPU goes: raw drain", cpu, 3.0 * static_cast<double>(o.backlog),
            seconds);
  }
  double slowest_drain = 1e18;
  if (o.run("drain")) {
    Sandbox box;
    declare(box, o.queue_type());
    raw_publish(endpoint(box), o.backlog, 512, 0, Bodies::Distinct);
    std::map<std::string, std::unique_ptr<Service>> subs;
    CpuUsage cpu = servers_cpu();
    cpu.start();
    const double started = now_seconds();
    for (auto s : kSubscribers) {
      subs[std::string(s)] = box.start(std::string(s), o.service_env(), false);
      cpu.watch(std::string(s), subs[std::string(s)]->process().pid());
    }
    const auto progress = watch_progress(
        subs, [](Service& svc) { return applied(svc) > 0; },
        [&](Service& svc) { return applied(svc) >= static_cast<double>(o.backlog); });
    add_cpu(rep, "where the CPU goes: subscriber drain", cpu, 3.0 * static_cast<double>(o.backlog),
            now_seconds() - started);
    for (auto& [name, svc] : subs) {
      const double rate = progress.rate(name, static_cast<double>(o.backlog), started);
      slowest_drain = std::min(slowest_drain, rate);
      rep.add("subscriber drain", name + ", exactly-once effects", rate, "events/s");
      rep.add("subscriber drain", name + " peak memory",
              static_cast<double>(proc_status_kib(svc->process().pid(), "VmHWM")) / 1024.0, "MiB");
    }
  }

  // 3. End to end: concurrent clients POST as fast as the system accepts.
  if (o.run("e2e"))
    std::fprintf(stderr, "end to end: %ld POSTs from %d clients\n", o.e2e, o.clients);
  double applied_rate = 0;
  // One end-to-end run with the given service environment, its figures under section.
  const auto end_to_end = [&](const std::map<std::string, std::string>& env,
                              const std::string& section, const std::string& cpu_section) {
    Sandbox box;
    auto publisher = box.start("special-offers", env);
    std::map<std::string, std::unique_ptr<Service>> subs;
    for (auto s : kSubscribers) subs[std::string(s)] = box.start(std::string(s), env);
    CpuUsage cpu = servers_cpu();
    cpu.watch("special-offers", publisher->process().pid());
    for (auto& [name, svc] : subs) cpu.watch(name, svc->process().pid());
    cpu.watch("HTTP clients", getpid());
    cpu.start();
    std::atomic<long> next{0};
    SendTimes sent;
    sent.with_keys = o.idempotency_keys;
    const double start = now_seconds();
    std::vector<std::thread> clients;
    for (int c = 0; c < o.clients; ++c) {
      clients.emplace_back([&] {
        HttpConnection http(publisher->port());
        while (next++ < o.e2e) sent.post(http);
      });
    }
    double max_lag = 0;
    std::atomic<bool> writing{true};
    std::thread lag_probe([&] {
      wait_until(
          [&] {
            rapidjson::Document d;
            std::string e;
            if (parse_json(publisher->get("/readyz").body, d, e) && d.HasMember("outboxLag")) {
              max_lag = std::max(max_lag, static_cast<double>(d["outboxLag"].GetInt64()));
            }
            return !writing.load();
          },
          std::chrono::seconds(600), 50ms);
    });
    for (auto& t : clients) t.join();
    const double accepted = now_seconds() - start;
    wait_until(
        [&] {
          for (auto& [name, svc] : subs) {
            if (applied(*svc) < static_cast<double>(o.e2e)) return false;
          }
          return true;
        },
        std::chrono::seconds(600), 50ms);
    const double all_applied = now_seconds() - start;
    add_cpu(rep, cpu_section, cpu, static_cast<double>(o.e2e), all_applied);
    writing = false;
    lag_probe.join();
    std::vector<double> rest_us;
    for (const auto& [id, t] : sent.by_offer)
      rest_us.push_back(static_cast<double>(t.answered_us - t.sent_us));
    const auto rest = percentiles(rest_us);
    const auto p2a = notification_latencies(*subs["notifications"], sent).total;
    const double rate = static_cast<double>(o.e2e) / all_applied;
    rep.add(section, "accepted writes", static_cast<double>(rest.count) / accepted, "writes/s");
    rep.add(section, "events applied by all three", rate, "events/s");
    rep.add(section, "largest outbox lag seen", max_lag, "events");
    rep.add(section, "REST latency p50", rest.p50, "us");
    rep.add(section, "REST latency p99", rest.p99, "us");
    rep.add(section, "POST to notification handled p50", p2a.p50, "us");
    rep.add(section, "POST to notification handled p99", p2a.p99, "us");
    return rate;
  };
  if (o.run("e2e") && o.redis == "sentinel") {
    // The same through Sentinel (a master and a replica of the bench's own for each run),
    // without and with WAIT for the replica.
    for (int min_replicas : {0, 1}) {
      SentinelGroup redis(1);
      auto env = o.service_env();
      for (const auto& [k, v] : sentinel_env(redis, min_replicas)) env[k] = v;
      const std::string label = "REDIS_MIN_REPLICAS=" + std::to_string(min_replicas);
      const double rate = end_to_end(env, "end to end, Redis through Sentinel, " + label,
                                     "where the CPU goes: end to end, Sentinel, " + label);
      if (min_replicas == 0) applied_rate = rate;
    }
  } else if (o.run("e2e")) {
    applied_rate =
        end_to_end(o.service_env(), "end to end (HTTP -> outbox -> broker -> 3 subscribers)",
                   "where the CPU goes: end to end");
  }

  // 4. The same system under an independent load generator: wrk with its default headers.
  if (o.run("wrk")) {
    Sandbox box;
    auto publisher = box.start("special-offers", o.service_env());
    std::map<std::string, std::unique_ptr<Service>> subs;
    for (auto s : kSubscribers) subs[std::string(s)] = box.start(std::string(s), o.service_env());
    std::fprintf(stderr, "wrk: POST /offers for %.0f s over %d connections\n", o.wrk_seconds,
                 o.clients);
    const double start = now_seconds();
    const auto wrk = run_wrk("http://127.0.0.1:" + std::to_string(publisher->port()) + "/offers",
                             o.wrk_seconds, o.clients);
    if (!wrk.ran) {
      std::fprintf(stderr, "wrk did not run (is it installed?): its figures are left out\n");
    } else {
      const double written = static_cast<double>(wrk.requests - wrk.non_2xx);
      wait_until(
          [&] {
            for (auto& [name, svc] : subs)
              if (applied(*svc) < written) return false;
            return true;
          },
          std::chrono::seconds(600), 50ms);
      const double all_applied = now_seconds() - start;
      const char* section = "end to end under wrk (default headers, same connections)";
      rep.add(section, "accepted writes", wrk.requests_per_second, "writes/s");
      rep.add(section, "events applied by all three", written / all_applied, "events/s");
      rep.add(section, "replies other than 2xx", static_cast<double>(wrk.non_2xx), "replies");
    }
  }

  // 5. Latency at a fixed rate, the system and the raw path.
  const long fixed_n = static_cast<long>(o.rate * o.seconds);
  if (o.run("fixed"))
    std::fprintf(stderr, "fixed rate: %.0f events/s for %.0f s\n", o.rate, o.seconds);
  RawCeiling raw_fixed{0, 0, {}, 0, 0};
  if (o.run("fixed")) raw_fixed = raw_path(fixed_n, o.rate, o.prefetch, o.queue_type());
  WriteToHandled system_fixed;
  if (o.run("fixed")) {
    Sandbox box;
    auto publisher = box.start("special-offers", o.service_env());
    std::map<std::string, std::unique_ptr<Service>> subs;
    for (auto s : kSubscribers) subs[std::string(s)] = box.start(std::string(s), o.service_env());
    const int threads = 4;
    std::vector<std::thread> clients;
    SendTimes sent;
    sent.with_keys = o.idempotency_keys;
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < threads; ++c) {
      clients.emplace_back([&, c] {
        HttpConnection http(publisher->port());
        for (long i = c; i < fixed_n; i += threads) {
          // Pacing, not waiting for a condition: each request leaves at its slot in the schedule.
          std::this_thread::sleep_until(
              start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(static_cast<double>(i) / o.rate)));
          sent.post(http);
        }
      });
    }
    for (auto& t : clients) t.join();
    wait_until(
        [&] {
          for (auto& [name, svc] : subs) {
            if (applied(*svc) < static_cast<double>(fixed_n)) return false;
          }
          return true;
        },
        std::chrono::seconds(600), 50ms);
    system_fixed = notification_latencies(*subs["notifications"], sent);
  }
  if (o.run("fixed")) {
    const std::string fixed =
        "latency at " + std::to_string(static_cast<int>(o.rate)) + " events/s";
    rep.add(fixed, "raw path p50", raw_fixed.latency.p50, "us");
    rep.add(fixed, "raw path p99", raw_fixed.latency.p99, "us");
    rep.add(fixed, "raw path p99.9", raw_fixed.latency.p999, "us");
    rep.add(fixed, "system POST to notification handled p50", system_fixed.total.p50, "us");
    rep.add(fixed, "system POST to notification handled p99", system_fixed.total.p99, "us");
    rep.add(fixed, "system POST to notification handled p99.9", system_fixed.total.p999, "us");
    rep.add(fixed, "  of which the write (HTTP + outbox), p50", system_fixed.write.p50, "us");
    rep.add(fixed, "  of which the write (HTTP + outbox), p99", system_fixed.write.p99, "us");
    rep.add(fixed, "  of which relay + broker + subscriber, p50", system_fixed.after_write.p50,
            "us");
    rep.add(fixed, "  of which relay + broker + subscriber, p99", system_fixed.after_write.p99,
            "us");
  }

  // 5. Catching up from the feed: fresh subscribers read a full outbox through the same
  // apply-once step as the queue drain above.
  if (o.run("feed")) {
    std::fprintf(stderr, "feed catch-up: %ld events\n", o.feed);
    Sandbox box;
    auto publisher = box.start("special-offers", o.service_env());
    std::atomic<long> next{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < o.clients; ++c) {
      clients.emplace_back([&] {
        HttpConnection http(publisher->port());
        while (next++ < o.feed) http.request("POST", "/offers", R"({"description":"Tea for two"})");
      });
    }
    for (auto& t : clients) t.join();
    // The relay's publishing is not part of this figure: it is done before the catch-up starts.
    wait_until(
        [&] {
          rapidjson::Document d;
          std::string e;
          return parse_json(publisher->get("/readyz").body, d, e) && d.HasMember("outboxLag") &&
                 d["outboxLag"].GetInt64() == 0;
        },
        std::chrono::seconds(600), 50ms);
    Sandbox fresh;  // no queue there has ever held these events
    const std::map<std::string, std::string> env{
        {"CATCH_UP", "auto"},
        {"FEED_URL", "http://127.0.0.1:" + std::to_string(publisher->port())}};
    std::map<std::string, std::unique_ptr<Service>> subs;
    CpuUsage cpu = servers_cpu();
    cpu.watch("special-offers", publisher->process().pid());
    cpu.start();
    const double started = now_seconds();
    for (auto s : kSubscribers) {
      subs[std::string(s)] = fresh.start(std::string(s), env, false);
      cpu.watch(std::string(s), subs[std::string(s)]->process().pid());
    }
    const auto progress = watch_progress(
        subs, [](Service& svc) { return metric(svc, "catch_up_position") > 0; },
        [](Service& svc) { return metric(svc, "catch_up_active") == 0; });
    add_cpu(rep, "where the CPU goes: feed catch-up", cpu, 3.0 * static_cast<double>(o.feed),
            now_seconds() - started);
    for (auto& [name, svc] : subs) {
      rep.add("feed catch-up (GET /events -> apply-once script)", name + ", exactly-once effects",
              progress.rate(name, static_cast<double>(o.feed), started), "events/s");
      rep.add("feed catch-up (GET /events -> apply-once script)", name + " peak memory",
              static_cast<double>(proc_status_kib(svc->process().pid(), "VmHWM")) / 1024.0, "MiB");
    }
  }

  if (o.run("drain"))
    rep.ratio("slowest subscriber drain / raw drain", slowest_drain / raw_drain, 0.70, true);
  if (o.run("raw") && o.run("e2e"))
    rep.ratio("end-to-end applied / raw confirmed publish", applied_rate / raw.publish_rate, 0.50,
              true);
  if (o.run("fixed"))
    rep.ratio("system p99 / raw p99 at fixed rate",
              system_fixed.total.p99 / std::max(1.0, raw_fixed.latency.p99), 3.0, false);

  // 6. The time a standby relay needs to take over after the holder's kill -9.
  if (o.run("takeover")) {
    std::fprintf(stderr, "relay takeover: %d kills, RELAY_LEASE=%s\n", o.takeovers,
                 o.lease.c_str());
    const auto t = relay_takeover(o.takeovers, o.lease, o.service_env());
    const std::string section = "relay takeover (RELAY_LEASE=" + o.lease + ")";
    rep.add(section, "kill -9 to first event published, p50", t.p50, "ms");
    rep.add(section, "kill -9 to first event published, max", t.p999, "ms");
  }

  // 7. With Redis through Sentinel: the time writes are refused after the master's kill -9.
  if (o.run("failover") && o.redis == "sentinel") {
    std::fprintf(stderr, "redis failover: %d kills of the master\n", o.failovers);
    const auto gap = redis_failover_gap(o.failovers, o.service_env());
    const char* section = "Redis failover (REDIS_MIN_REPLICAS=1, two replicas, down after 1 s)";
    rep.add(section, "kill -9 to first write answered 201, p50", gap.p50, "ms");
    rep.add(section, "kill -9 to first write answered 201, max", gap.p999, "ms");
  }

  return rep;
}

static int usage() {
  std::fprintf(stderr,
               "usage: offers-bench [--events N] [--backlog N] [--e2e N] [--clients N] "
               "[--rate R] [--seconds S] [--feed N] [--json FILE] "
               "[--sections raw,drain,e2e,wrk,fixed,feed,takeover,failover] [--rounds N] "
               "[--takeovers N] [--lease DURATION] [--broker single|cluster] "
               "[--redis single|sentinel] [--failovers N] [--wrk-seconds S] "
               "[--idempotency-keys on|off]\n");
  return 2;
}

int main(int argc, char** argv) {
  Options o;
  if (argc % 2 == 0) return usage();  // a flag without its value
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    const auto count = [&](long min) {
      const auto n = parse_non_negative(v);
      if (!n || *n < min)
        throw std::invalid_argument(k + " takes a whole number >= " + std::to_string(min) +
                                    ", not " + v);
      return *n;
    };
    const auto positive = [&] {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || !(x > 0))
        throw std::invalid_argument(k + " takes a positive number, not " + v);
      return x;
    };
    try {
      if (k == "--events")
        o.events = count(1);
      else if (k == "--backlog")
        o.backlog = count(1);
      else if (k == "--e2e")
        o.e2e = count(1);
      else if (k == "--clients")
        o.clients = static_cast<int>(count(1));
      else if (k == "--rate")
        o.rate = positive();
      else if (k == "--seconds")
        o.seconds = positive();
      else if (k == "--feed")
        o.feed = count(1);
      else if (k == "--json")
        o.json_path = v;
      else if (k == "--sections")
        o.sections = v;
      else if (k == "--rounds")
        o.rounds = static_cast<int>(count(1));
      else if (k == "--takeovers")
        o.takeovers = static_cast<int>(count(1));
      else if (k == "--lease")
        o.lease = v;
      else if (k == "--broker" && (v == "single" || v == "cluster"))
        o.broker = v;
      else if (k == "--redis" && (v == "single" || v == "sentinel"))
        o.redis = v;
      else if (k == "--failovers")
        o.failovers = static_cast<int>(count(1));
      else if (k == "--wrk-seconds")
        o.wrk_seconds = positive();
      else if (k == "--idempotency-keys" && (v == "on" || v == "off"))
        o.idempotency_keys = v == "on";
      else
        return usage();
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "offers-bench: %s\n", e.what());
      return usage();
    }
  }
  // Before the first Sandbox: the cluster becomes the broker of every one (see Cluster).
  std::unique_ptr<Cluster> cluster;
  if (o.broker == "cluster") {
    std::fprintf(stderr, "starting a three-node RabbitMQ cluster\n");
    cluster = std::make_unique<Cluster>(3);
  }
  std::vector<Report> rounds;
  for (int r = 1; r <= o.rounds; ++r) {
    std::fprintf(stderr, "round %d of %d\n", r, o.rounds);
    rounds.push_back(run_round(o));
  }
  const Report rep = Report::median(rounds);
  const std::string m = machine();
  std::printf("offers-bench on %s (median of %d rounds; %s%s)\n%s", m.c_str(), o.rounds,
              cluster ? "quorum queues on a three-node cluster" : "classic queues on one node",
              o.idempotency_keys ? "; every POST with an Idempotency-Key" : "",
              rep.table().c_str());
  if (!o.json_path.empty()) std::ofstream(o.json_path) << rep.json(m);
  return 0;
}
