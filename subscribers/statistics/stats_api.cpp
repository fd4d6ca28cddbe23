#include "subscribers/statistics/stats_api.hpp"

#include "shared/common/json.hpp"
#include "subscribers/statistics/statistics_handler.hpp"

namespace offers {

namespace {
// One consistent snapshot of every counter.
const LuaScript kSnapshot{R"lua(
return {redis.call('HGETALL', KEYS[1]), redis.call('SCARD', KEYS[2]),
        redis.call('GET', KEYS[3]) or '0', redis.call('GET', KEYS[4]) or '0',
        redis.call('GET', KEYS[5]) or '0'}
)lua"};
}  // namespace

void add_stats_routes(HttpService& http, RedisPool& redis) {
  http.route(Pistache::Http::Method::Get, "/stats", [&redis](HttpCall& c) {
    using namespace statistics_keys;
    auto r = redis.lease()->eval(kSnapshot, {kByType, kActive, kLastSeq, kIgnored, kStale}, {});
    const redisReply* by_type = r->element[0];
    std::string body = "{\"eventsByType\":{";
    for (size_t i = 0; i + 1 < by_type->elements; i += 2) {
      if (i) body += ",";
      body += json_quote(std::string_view(by_type->element[i]->str, by_type->element[i]->len)) +
              ":" + std::string(by_type->element[i + 1]->str, by_type->element[i + 1]->len);
    }
    auto text = [&](size_t i) { return std::string(r->element[i]->str, r->element[i]->len); };
    body += "},\"activeOffers\":" + std::to_string(r->element[1]->integer) +
            ",\"lastSequenceNumber\":" + text(2) + ",\"ignored\":" + text(3) +
            ",\"stale\":" + text(4) + "}";
    c.json(Pistache::Http::Code::Ok, body);
  });
}

}  // namespace offers
