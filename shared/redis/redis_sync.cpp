#include "shared/redis/redis_sync.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "shared/redis/sentinel.hpp"

namespace offers {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// SHA-1 (FIPS 180-1), only to name Lua scripts for EVALSHA.
struct Sha1 {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  static uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }
  void block(const unsigned char* p) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t(p[4 * i]) << 24) | (uint32_t(p[4 * i + 1]) << 16) |
             (uint32_t(p[4 * i + 2]) << 8) | uint32_t(p[4 * i + 3]);
    }
    for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const uint32_t t = rol(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rol(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
};

}  // namespace

std::string script_sha1(const std::string& script) {
  Sha1 s;
  std::string msg = script;
  const uint64_t bits = static_cast<uint64_t>(script.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  for (size_t off = 0; off < msg.size(); off += 64) {
    s.block(reinterpret_cast<const unsigned char*>(msg.data() + off));
  }
  char out[41];
  for (int i = 0; i < 5; ++i) std::snprintf(out + 8 * i, 9, "%08x", s.h[i]);
  return std::string(out, 40);
}

SyncRedis::SyncRedis(RedisEndpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

void SyncRedis::connect() {
  const timeval tv = to_timeval(timeout_);
  // A reply may take a WAIT's whole timeout on top of the usual.
  const timeval command_tv =
      to_timeval(timeout_ + (endpoint_.min_replicas > 0 ? endpoint_.wait_timeout
                                                        : std::chrono::milliseconds(0)));
  std::string error;
  const auto address = redis_address(endpoint_, std::min(timeout_, kSentinelTimeout), error);
  if (!address) throw RedisError("redis master unknown: " + error);
  ctx_.reset(redisConnectWithTimeout(address->host.c_str(), address->port, tv));
  if (!ctx_ || ctx_->err) {
    const std::string err = ctx_ ? ctx_->errstr : "out of memory";
    ctx_.reset();
    throw RedisError("redis unreachable: " + err);
  }
  redisSetTimeout(ctx_.get(), command_tv);
  try {
    if (!endpoint_.password.empty()) raw({"AUTH", endpoint_.password});
    // A new connection starts in database 0 (and a sentinel, which tools talk to, has no SELECT).
    if (endpoint_.db != 0) raw({"SELECT", std::to_string(endpoint_.db)});
    // A sentinel may still name a master that a failover just demoted.
    if (!endpoint_.sentinels.empty() && !role_is_master(raw({"ROLE"}).get())) {
      throw RedisError("redis at " + address->host + ":" + std::to_string(address->port) +
                       " is not the master");
    }
  } catch (const RedisError&) {
    ctx_.reset();
    throw;
  }
}

ReplyPtr SyncRedis::raw(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(ctx_.get(), static_cast<int>(args.size()), args.data(), lens.data())));
  if (!reply) {
    const std::string err = ctx_->errstr;
    ctx_.reset();
    throw RedisError("redis failed: " + err);
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    // The server was demoted: the next call asks the sentinels where the master is now.
    if (is_readonly_error(reply.get())) ctx_.reset();
    throw RedisError(std::string("redis error: ") + reply->str);
  }
  return reply;
}

ReplyPtr SyncRedis::command(const std::vector<std::string>& argv) {
  if (!ctx_) connect();
  return raw(argv);
}

ReplyPtr SyncRedis::eval(const LuaScript& script, const std::vector<std::string>& keys,
                         const std::vector<std::string>& args) {
  std::vector<std::string> argv{"EVALSHA", script.sha1, std::to_string(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  try {
    return command(argv);
  } catch (const RedisError& e) {
    if (std::strstr(e.what(), "NOSCRIPT") == nullptr) throw;
  }
  argv[0] = "EVAL";
  argv[1] = script.text;
  return command(argv);
}

void SyncRedis::wait_replicas() {
  if (endpoint_.min_replicas == 0) return;
  command({"PUBLISH", "offers:durable", "1"});
  const auto r = command({"WAIT", std::to_string(endpoint_.min_replicas),
                          std::to_string(endpoint_.wait_timeout.count())});
  if (r->type != REDIS_REPLY_INTEGER || r->integer < endpoint_.min_replicas) {
    throw RedisError("redis replicas did not acknowledge in time (wanted " +
                     std::to_string(endpoint_.min_replicas) + ", got " +
                     (r->type == REDIS_REPLY_INTEGER ? std::to_string(r->integer) : "no count") +
                     ")");
  }
}

RedisPool::RedisPool(RedisEndpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

RedisPool::Lease RedisPool::lease() {
  std::unique_ptr<SyncRedis> conn;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!conn) conn = std::make_unique<SyncRedis>(endpoint_, timeout_);
  return Lease(*this, std::move(conn));
}

void RedisPool::give_back(std::unique_ptr<SyncRedis> conn) {
  if (!conn) return;
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(conn));
}

}  // namespace offers
