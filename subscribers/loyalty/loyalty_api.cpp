#include "subscribers/loyalty/loyalty_api.hpp"

#include <algorithm>

#include "shared/common/json.hpp"
#include "shared/common/numbers.hpp"
#include "subscribers/loyalty/loyalty_handler.hpp"
#include "subscribers/loyalty/user_input.hpp"

namespace offers {

using Pistache::Http::Code;
using Pistache::Http::Method;
using namespace loyalty_keys;

namespace {

// KEYS users, next id; ARGV name (JSON), settings (JSON).
const LuaScript kCreateUser{R"lua(
local id = redis.call('INCR', KEYS[2])
local user = '{"id":' .. string.format('%d', id) .. ',"name":' .. ARGV[1] ..
    ',"loyaltyPoints":0,"settings":' .. ARGV[2] .. '}'
redis.call('HSET', KEYS[1], id, user)
return {id, user}
)lua"};

// KEYS users; ARGV id, name (JSON), settings (JSON). Keeps the points.
const LuaScript kUpdateUser{R"lua(
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return false end
local points = cjson.decode(old).loyaltyPoints or 0
local user = '{"id":' .. ARGV[1] .. ',"name":' .. ARGV[2] .. ',"loyaltyPoints":' ..
    string.format('%d', points) .. ',"settings":' .. ARGV[3] .. '}'
redis.call('HSET', KEYS[1], ARGV[1], user)
return user
)lua"};

std::string text(const redisReply* r) { return std::string(r->str, r->len); }

// Offers ordered by id; with interests, only those whose description matches one.
std::string offers_json(SyncRedis& redis, const std::vector<std::string>* interests) {
  auto r = redis.command({"HGETALL", kOffers});
  std::vector<std::pair<int64_t, std::string>> rows;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    std::string offer = text(r->element[i + 1]);
    if (interests != nullptr) {
      rapidjson::Document d;
      std::string error;
      if (!parse_json(offer, d, error) || !d.IsObject() || !d.HasMember("description") ||
          !d["description"].IsString() ||
          !matches_interest(d["description"].GetString(), *interests)) {
        continue;
      }
    }
    rows.emplace_back(parse_non_negative(text(r->element[i])).value_or(0), std::move(offer));
  }
  std::sort(rows.begin(), rows.end());
  std::vector<std::string> offers;
  offers.reserve(rows.size());
  for (auto& row : rows) offers.push_back(std::move(row.second));
  return json_array(offers);
}

std::optional<int64_t> user_id(HttpCall& c) {
  const auto id = parse_positive_id(c.request.param(":id").as<std::string>());
  if (!id) c.error(Code::Bad_Request, "user id must be a positive integer");
  return id;
}

}  // namespace

void add_loyalty_routes(HttpService& http, RedisPool& redis) {
  http.route(Method::Post, "/users", [&redis](HttpCall& c) {
    const auto check = check_user_body(c.request.body());
    if (!check.input) return c.error(Code::Bad_Request, check.error);
    auto conn = redis.lease();
    auto r = conn->eval(kCreateUser, {kUsers, kNextUserId},
                        {json_quote(check.input->name), settings_json(check.input->interests)});
    conn->wait_replicas();  // REDIS_MIN_REPLICAS: no 201 for a user a failover could lose
    c.response.headers().add<Pistache::Http::Header::Location>(
        "/users/" + std::to_string(r->element[0]->integer));
    c.json(Code::Created, text(r->element[1]));
  });

  http.route(Method::Get, "/users/:id", [&redis](HttpCall& c) {
    const auto id = user_id(c);
    if (!id) return;
    auto r = redis.lease()->command({"HGET", kUsers, std::to_string(*id)});
    if (r->type != REDIS_REPLY_STRING) return c.error(Code::Not_Found, "user not found");
    c.json(Code::Ok, text(r.get()));
  });

  http.route(Method::Put, "/users/:id", [&redis](HttpCall& c) {
    const auto id = user_id(c);
    if (!id) return;
    const auto check = check_user_body(c.request.body());
    if (!check.input) return c.error(Code::Bad_Request, check.error);
    auto conn = redis.lease();
    auto r = conn->eval(kUpdateUser, {kUsers},
                        {std::to_string(*id), json_quote(check.input->name),
                         settings_json(check.input->interests)});
    if (r->type != REDIS_REPLY_STRING) return c.error(Code::Not_Found, "user not found");
    conn->wait_replicas();
    c.json(Code::Ok, text(r.get()));
  });

  http.route(Method::Get, "/offers",
             [&redis](HttpCall& c) { c.json(Code::Ok, offers_json(*redis.lease(), nullptr)); });

  http.route(Method::Get, "/users/:id/offers", [&redis](HttpCall& c) {
    const auto id = user_id(c);
    if (!id) return;
    auto lease = redis.lease();
    auto r = lease->command({"HGET", kUsers, std::to_string(*id)});
    if (r->type != REDIS_REPLY_STRING) return c.error(Code::Not_Found, "user not found");
    rapidjson::Document user;
    std::string error;
    std::vector<std::string> interests;
    if (parse_json(text(r.get()), user, error) && user.IsObject() && user.HasMember("settings") &&
        user["settings"].IsObject() && user["settings"].HasMember("interests") &&
        user["settings"]["interests"].IsArray()) {
      for (const auto& i : user["settings"]["interests"].GetArray()) {
        if (i.IsString()) interests.emplace_back(i.GetString(), i.GetStringLength());
      }
    }
    c.json(Code::Ok, offers_json(*lease, &interests));
  });
}

}  // namespace offers
