#include "publisher/offers_api.hpp"

#include <algorithm>

#include "publisher/offer_input.hpp"
#include "shared/common/json.hpp"
#include "shared/common/log.hpp"

namespace offers {

using Pistache::Http::Code;
using Pistache::Http::Method;

namespace {

// Pistache 0.0.5 drops raw response headers, so this one is typed.
class IdempotentReplayedHeader : public Pistache::Http::Header::Header {
 public:
  NAME("Idempotent-Replayed")
  void parse(const std::string&) override {}
  void write(std::ostream& os) const override { os << "true"; }
};

// The request's Idempotency-Key: nullopt without one; false in valid when it is not 1 to 255
// printable ASCII characters (the caller has been answered 400 then).
struct KeyCheck {
  bool valid = true;
  std::optional<IdempotentRequest> request;
};

KeyCheck idempotency_key(HttpCall& c, const char* method, std::chrono::milliseconds ttl) {
  KeyCheck check;
  const auto raw = c.request.headers().tryGetRaw("Idempotency-Key");
  if (!raw) return check;
  const std::string& key = raw->value();
  const bool printable = std::all_of(key.begin(), key.end(), [](char ch) {
    return static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7f;
  });
  if (key.empty() || key.size() > 255 || !printable) {
    check.valid = false;
    c.error(Code::Bad_Request, "Idempotency-Key must be 1 to 255 printable ASCII characters");
    return check;
  }
  check.request = IdempotentRequest{key, method, c.request.resource(), c.request.body(), ttl, ""};
  return check;
}

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

void answer_replay(DeferredReply& reply, const StoredReply& stored) {
  reply.writer().headers().add(std::make_shared<IdempotentReplayedHeader>());
  if (!stored.location.empty())
    reply.writer().headers().add<Pistache::Http::Header::Location>(stored.location);
  if (stored.body.empty()) return reply.no_content();
  reply.json(static_cast<Code>(stored.status), stored.body);
}

// Answers a write that did not happen (404 for a missing offer, 503 when Redis could not take
// it, the stored reply of an Idempotency-Key's first request, 422 for a key reused for another
// request); false when the write was done and the caller answers.
bool answered_otherwise(DeferredReply& reply, const WriteOutcome& w, int64_t id = 0) {
  switch (w.status) {
    case WriteOutcome::Status::Done:
      return false;
    case WriteOutcome::Status::NotFound:
      reply.error(Code::Not_Found, not_found(id));
      return true;
    case WriteOutcome::Status::Replayed:
      answer_replay(reply, w.replay);
      return true;
    case WriteOutcome::Status::KeyReused:
      reply.error(Code::Unprocessable_Entity,
                  "Idempotency-Key was already used for another request");
      return true;
    case WriteOutcome::Status::Failed:
      break;
  }
  log_warn("storage unavailable", {{"error", w.error}, {"request_id", reply.request_id()}});
  reply.error(Code::Service_Unavailable, "storage unavailable");
  return true;
}

}  // namespace

void add_offer_routes(HttpService& http, OfferStore& store, OutboxWriter& writer, int page_limit,
                      std::chrono::milliseconds ttl) {
  http.route(Method::Post, "/offers", [&writer, ttl](HttpCall& c) {
    const auto key = idempotency_key(c, "POST", ttl);
    if (!key.valid) return;
    const auto check = check_offer_body(c.request.body());
    if (!check.input) return c.error(Code::Bad_Request, check.error);
    auto write = create_write(check.input->description, c.request_id);
    if (key.request) add_idempotency(write, *key.request);
    writer.submit(std::move(write), [reply = c.defer()](WriteOutcome&& w) {
      if (!answered_otherwise(*reply, w)) {
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

  http.route(Method::Put, "/offers/:id", [&writer, ttl](HttpCall& c) {
    const auto id = path_id(c);
    if (!id) return;
    auto key = idempotency_key(c, "PUT", ttl);
    if (!key.valid) return;
    const auto check = check_offer_body(c.request.body());
    if (!check.input) return c.error(Code::Bad_Request, check.error);
    auto write = update_write(*id, check.input->description, c.request_id);
    if (key.request) {
      key.request->not_found_body = error_body(not_found(*id));
      add_idempotency(write, *key.request);
    }
    writer.submit(std::move(write), [reply = c.defer(), id = *id](WriteOutcome&& w) {
      if (!answered_otherwise(*reply, w, id)) reply->json(Code::Ok, w.result.offer_json);
    });
  });

  http.route(Method::Delete, "/offers/:id", [&writer, ttl](HttpCall& c) {
    const auto id = path_id(c);
    if (!id) return;
    auto key = idempotency_key(c, "DELETE", ttl);
    if (!key.valid) return;
    auto write = remove_write(*id, c.request_id);
    if (key.request) {
      key.request->not_found_body = error_body(not_found(*id));
      add_idempotency(write, *key.request);
    }
    writer.submit(std::move(write), [reply = c.defer(), id = *id](WriteOutcome&& w) {
      if (!answered_otherwise(*reply, w, id)) reply->no_content();
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
