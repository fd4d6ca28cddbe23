#include "publisher/offers_api.hpp"

#include "publisher/offer_input.hpp"
#include "shared/json.hpp"

namespace offers {

using Pistache::Http::Code;
using Pistache::Http::Method;

namespace {

std::optional<int64_t> path_id(HttpCall& c) {
  const auto id = parse_positive_id(c.request.param(":id").as<std::string>());
  if (!id) c.error(Code::Bad_Request, "offer id must be a positive integer");
  return id;
}

}  // namespace

void add_offer_routes(HttpService& http, OfferStore& store, int page_limit,
                      std::function<void(OutboxEvent&&)> after_write) {
  http.route(Method::Post, "/offers", [&store, after_write](HttpCall& c) {
    const auto check = check_offer_body(c.request.body());
    if (!check.input) return c.error(Code::Bad_Request, check.error);
    WriteResult w = store.create(check.input->description, c.request_id);
    after_write(std::move(w.event));
    c.response.headers().add<Pistache::Http::Header::Location>("/offers/" +
                                                               std::to_string(w.offer_id));
    c.json(Code::Created, w.offer_json);
  });

  http.route(Method::Get, "/offers",
             [&store](HttpCall& c) { c.json(Code::Ok, json_array(store.all())); });

  http.route(Method::Get, "/offers/:id", [&store](HttpCall& c) {
    const auto id = path_id(c);
    if (!id) return;
    const auto offer = store.get(*id);
    if (!offer) return c.error(Code::Not_Found, "offer " + std::to_string(*id) + " not found");
    c.json(Code::Ok, *offer);
  });

  http.route(Method::Put, "/offers/:id", [&store, after_write](HttpCall& c) {
    const auto id = path_id(c);
    if (!id) return;
    const auto check = check_offer_body(c.request.body());
    if (!check.input) return c.error(Code::Bad_Request, check.error);
    auto w = store.update(*id, check.input->description, c.request_id);
    if (!w) return c.error(Code::Not_Found, "offer " + std::to_string(*id) + " not found");
    after_write(std::move(w->event));
    c.json(Code::Ok, w->offer_json);
  });

  http.route(Method::Delete, "/offers/:id", [&store, after_write](HttpCall& c) {
    const auto id = path_id(c);
    if (!id) return;
    auto w = store.remove(*id, c.request_id);
    if (!w) return c.error(Code::Not_Found, "offer " + std::to_string(*id) + " not found");
    after_write(std::move(w->event));
    c.no_content();
  });

  http.route(Method::Get, "/events", [&store, page_limit](HttpCall& c) {
    const auto& q = c.request.query();
    int64_t start = 0;
    if (auto s = q.get("start")) {
      const auto v = parse_non_negative(*s);
      if (!v) return c.error(Code::Bad_Request, "start must be a non-negative integer");
      start = *v;
    }
    int64_t end = INT64_MAX;
    if (auto e = q.get("end")) {
      const auto v = parse_non_negative(*e);
      if (!v) return c.error(Code::Bad_Request, "end must be a non-negative integer");
      end = *v;
      if (end < start) return c.error(Code::Bad_Request, "end must not be less than start");
    }
    c.json(Code::Ok, json_array(store.events(start, end, page_limit)));
  });
}

}  // namespace offers
