#include "subscribers/notifications/notifications_api.hpp"

#include <charconv>

#include "subscribers/notifications/notifications_handler.hpp"

namespace offers {

void add_notifications_routes(HttpService& http, RedisPool& redis) {
  http.route(Pistache::Http::Method::Get, "/notifications", [&redis](HttpCall& c) {
    long limit = 50;
    if (auto q = c.request.query().get("limit")) {
      const auto [end, ec] = std::from_chars(q->data(), q->data() + q->size(), limit);
      if (ec != std::errc() || end != q->data() + q->size() || limit < 1 || limit > 10000) {
        return c.error(Pistache::Http::Code::Bad_Request,
                       "limit must be an integer from 1 to 10000");
      }
    }
    auto r = redis.lease()->command({"LRANGE", kNotificationLog, "0", std::to_string(limit - 1)});
    std::string body = "[";
    for (size_t i = 0; i < r->elements; ++i) {
      if (i) body += ",";
      body.append(r->element[i]->str, r->element[i]->len);
    }
    c.json(Pistache::Http::Code::Ok, body + "]");
  });
}

}  // namespace offers
