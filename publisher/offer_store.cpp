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

std::vector<std::string> OfferStore::events(int64_t start, int64_t end, int64_t limit) {
  const int64_t first = std::max<int64_t>(start, 1);
  const int64_t stop = std::min(end, first + limit);  // exclusive
  std::vector<std::string> out;
  if (stop <= first) return out;
  auto r = pool_.lease()->command(
      {"LRANGE", keys::kEventLog, std::to_string(first - 1), std::to_string(stop - 2)});
  for (size_t i = 0; i < r->elements; ++i) out.emplace_back(r->element[i]->str, r->element[i]->len);
  return out;
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
