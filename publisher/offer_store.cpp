#include "publisher/offer_store.hpp"

#include <algorithm>

namespace offers {

std::optional<std::string> OfferStore::get(int64_t id) {
  auto r = pool_.lease()->command({"HGET", keys::kOffers, std::to_string(id)});
  if (r->type != REDIS_REPLY_STRING) return std::nullopt;
  return std::string(r->str, r->len);
}

std::vector<std::string> OfferStore::all() {
  auto r = pool_.lease()->command({"HGETALL", keys::kOffers});
  std::vector<std::pair<int64_t, std::string>> rows;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    rows.emplace_back(std::stoll(std::string(r->element[i]->str, r->element[i]->len)),
                      std::string(r->element[i + 1]->str, r->element[i + 1]->len));
  }
  std::sort(rows.begin(), rows.end());
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (auto& [id, json] : rows) out.push_back(std::move(json));
  return out;
}

namespace {
// The length of the log and one page of it, read together.
const LuaScript kEventPage{R"lua(
return {redis.call('LLEN', KEYS[1]), redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])}
)lua"};
}  // namespace

OfferStore::EventPage OfferStore::events(int64_t start, int64_t end, int64_t limit) {
  const int64_t first = std::max<int64_t>(start, 1);
  const int64_t stop = std::min(end, first + limit);  // exclusive
  EventPage page;
  page.next = stop;
  page.last = first - 1;
  if (stop <= first) return page;
  auto r = pool_.lease()->eval(kEventPage, {keys::kEventLog},
                               {std::to_string(first - 1), std::to_string(stop - 2)});
  page.last = r->element[0]->integer;
  const redisReply* events = r->element[1];
  page.events.reserve(events->elements);
  for (size_t i = 0; i < events->elements; ++i) {
    page.events.emplace_back(events->element[i]->str, events->element[i]->len);
  }
  page.more = stop < end && page.last >= stop;
  return page;
}

int64_t OfferStore::event_count() {
  return pool_.lease()->command({"LLEN", keys::kEventLog})->integer;
}

int64_t OfferStore::relay_cursor() {
  auto r = pool_.lease()->command({"GET", keys::kRelayCursor});
  if (r->type != REDIS_REPLY_STRING) return 0;
  return std::stoll(std::string(r->str, r->len));
}

void OfferStore::ping() { pool_.lease()->command({"PING"}); }

}  // namespace offers
