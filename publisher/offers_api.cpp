#include "publisher/offers_api.hpp"

#include "publisher/offer_input.hpp"
#include "shared/common/json.hpp"
#include "shared/common/log.hpp"

namespace offers {

using Pistache::Http::Code;
using Pistache::Http::Method;

namespace {

std::optional<int64_t> path_id(HttpCall& c) {
  const auto id = parse_positive_id(c.request.param(":id").as<std::string>());
  if (!id) c.error(Code::Bad_Request, "offer id must be a positive integer");
  return id;
}

// Pistache 0.0.5 drops raw response headers, so Link is a typed header.
class LinkHeader : public Pistache::Http::Header::Header {
 public:
  NAME("Link")
  LinkHeader() = default;
  explicit LinkHeader(std::string value) : value_(std::move(value)) {}
  void parse(const std::string& data) override { value_ = data; }
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string value_;
};

std::string not_found(int64_t id) { return "offer " + std::to_string(id) + " not found"; }

// Answers a write that did not happen (404 for a missing offer, 503 when Redis could not take
// it); false when the write was done and the caller answers.
bool answered_failure(DeferredReply& reply, const WriteOutcome& w, int64_t id = 0) {
  switch (w.status) {
    case WriteOutcome::Status::Done:
      return false;
    case WriteOutcome::Status::NotFound:
      reply.error(Code::Not_Found, not_found(id));
      return true;
    case WriteOutcome::Status::Failed:
      break;
  }
  log_warn("storage unavailable", {{"error", w.error}, {"request_id", reply.request_id()}});
  reply.error(Code::Service_Unavailable, "storage unavailable");
  return true;
}

}  // namespace

void add_offer_routes(HttpService& http, OfferStore& store, OutboxWriter& writer, int page_limit) {
  http.route(Method::Post, "/offers", [&writer](HttpCall& c) {
    const auto check = check_offer_body(c.request.body());
    if (!check.input) return c.error(Code::Bad_Request, check.error);
    writer.submit(create_write(check.input->description, c.request_id),
                  [reply = c.defer()](WriteOutcome&& w) {
                    if (!answered_failure(*reply, w)) {
                      reply->writer().headers().add<Pistache::Http::Header::Location>(
                          "/offers/" + std::to_string(w.result.offer_id));
                      reply->json(Code::Created, w.result.offer_json);
                    }
                  });
  });

  http.route(Method::Get, "/offers",
             [&store](HttpCall& c) { c.json(Code::Ok, json_array(store.all())); });

  http.route(Method::Get, "/offers/:id", [&store](HttpCall& c) {
    const auto id = path_id(c);
    if (!id) return;
    const auto offer = store.get(*id);
    if (!offer) return c.error(Code::Not_Found, not_found(*id));
    c.json(Code::Ok, *offer);
  });

  http.route(Method::Put, "/offers/:id", [&writer](HttpCall& c) {
    const auto id = path_id(c);
    if (!id) return;
    const auto check = check_offer_body(c.request.body());
    if (!check.input) return c.error(Code::Bad_Request, check.error);
    writer.submit(update_write(*id, check.input->description, c.request_id),
                  [reply = c.defer(), id = *id](WriteOutcome&& w) {
                    if (!answered_failure(*reply, w, id))
                      reply->json(Code::Ok, w.result.offer_json);
                  });
  });

  http.route(Method::Delete, "/offers/:id", [&writer](HttpCall& c) {
    const auto id = path_id(c);
    if (!id) return;
    writer.submit(remove_write(*id, c.request_id), [reply = c.defer(), id = *id](WriteOutcome&& w) {
      if (!answered_failure(*reply, w, id)) reply->no_content();
    });
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
    const bool open_ended = !q.has("end");
    if (auto e = q.get("end")) {
      const auto v = parse_non_negative(*e);
      if (!v) return c.error(Code::Bad_Request, "end must be a non-negative integer");
      end = *v;
      if (end < start) return c.error(Code::Bad_Request, "end must not be less than start");
    }
    const auto page = store.events(start, end, page_limit);
    if (page.more) {
      // Without an end, the links run to the newest event at the time of this first page: a
      // reader following them reads the log as it was then, and finishes even while it grows.
      const int64_t next_end = open_ended ? page.last + 1 : end;
      c.response.headers().add(
          std::make_shared<LinkHeader>("</events?start=" + std::to_string(page.next) +
                                       "&end=" + std::to_string(next_end) + ">; rel=\"next\""));
    }
    c.json(Code::Ok, json_array(page.events));
  });
}

}  // namespace offers
