#include "shared/common/envelope.hpp"

#include <catch2/catch.hpp>

using namespace offers;

TEST_CASE("a built event parses back to the same fields", "[envelope]") {
  const std::string body = build_event_json(42, "2026-11-21T10:00:00.123Z", kOfferCreated,
                                            build_offer_json(7, "Two \"coffees\" for one"));
  const auto r = parse_event(body);
  REQUIRE(r.event);
  CHECK(r.event->sequence_number == 42);
  CHECK(r.event->occurred_at == "2026-11-21T10:00:00.123Z");
  CHECK(r.event->name == "SpecialOfferCreated");
  CHECK(r.event->kind == EventKind::Created);
  CHECK(r.event->offer.id == 7);
  CHECK(r.event->offer.description == "Two \"coffees\" for one");
  CHECK(
      body ==
      R"({"sequenceNumber":42,"occurredAt":"2026-11-21T10:00:00.123Z","name":"SpecialOfferCreated","content":{"id":7,"description":"Two \"coffees\" for one"}})");
}

TEST_CASE("updated and removed events carry their offers", "[envelope]") {
  const auto u = parse_event(
      R"({"sequenceNumber":3,"occurredAt":"x","name":"SpecialOfferUpdated","content":{"oldOffer":{"id":1,"description":"a"},"newOffer":{"id":1,"description":"b","extra":true}}})");
  REQUIRE(u.event);
  CHECK(u.event->kind == EventKind::Updated);
  CHECK(u.event->old_offer->description == "a");
  CHECK(u.event->offer.description == "b");
  CHECK(u.event->offer.json == R"({"id":1,"description":"b","extra":true})");

  const auto d = parse_event(
      R"({"sequenceNumber":4,"occurredAt":"x","name":"SpecialOfferRemoved","content":{"offer":{"id":1,"description":"b"}}})");
  REQUIRE(d.event);
  CHECK(d.event->kind == EventKind::Removed);
  CHECK(d.event->offer.id == 1);
}

TEST_CASE("unknown event names parse as Unknown and extra fields are ignored", "[envelope]") {
  const auto r = parse_event(
      R"({"sequenceNumber":9,"occurredAt":"x","name":"SpecialOfferArchived","content":[1,2],"more":1})");
  REQUIRE(r.event);
  CHECK(r.event->kind == EventKind::Unknown);
  CHECK(r.event->name == "SpecialOfferArchived");
}

TEST_CASE("malformed bodies are refused with a reason", "[envelope]") {
  struct Case {
    const char* body;
    const char* reason;
  };
  const Case cases[] = {
      {"not json", "invalid JSON"},
      {"[1]", "not a JSON object"},
      {R"({"occurredAt":"x","name":"SpecialOfferCreated","content":{}})", "sequenceNumber"},
      {R"({"sequenceNumber":0,"occurredAt":"x","name":"n","content":{}})", "sequenceNumber"},
      {R"({"sequenceNumber":"1","occurredAt":"x","name":"n","content":{}})", "sequenceNumber"},
      {R"({"sequenceNumber":1,"name":"n","content":{}})", "occurredAt"},
      {R"({"sequenceNumber":1,"occurredAt":"x","content":{}})", "name"},
      {R"({"sequenceNumber":1,"occurredAt":"x","name":"n"})", "content is missing"},
      {R"({"sequenceNumber":1,"occurredAt":"x","name":"SpecialOfferCreated","content":{"description":"a"}})",
       "content.id"},
      {R"({"sequenceNumber":1,"occurredAt":"x","name":"SpecialOfferCreated","content":{"id":1}})",
       "content.description"},
      {R"({"sequenceNumber":1,"occurredAt":"x","name":"SpecialOfferUpdated","content":{"newOffer":{"id":1,"description":"a"}}})",
       "oldOffer"},
      {R"({"sequenceNumber":1,"occurredAt":"x","name":"SpecialOfferUpdated","content":{"oldOffer":{"id":2,"description":"a"},"newOffer":{"id":1,"description":"a"}}})",
       "differ"},
      {R"({"sequenceNumber":1,"occurredAt":"x","name":"SpecialOfferRemoved","content":{}})",
       "content needs offer"},
      {"{\"sequenceNumber\":1,\"occurredAt\":\"\xff\",\"name\":\"n\",\"content\":{}}",
       "invalid JSON"},
      {R"({"sequenceNumber":1} trailing)", "invalid JSON"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    const auto r = parse_event(c.body);
    CHECK_FALSE(r.event);
    CHECK_THAT(r.error, Catch::Contains(c.reason));
  }
}

TEST_CASE("message ids are stable per sequence number", "[envelope]") {
  CHECK(message_id_for(42) == "special-offers-42");
  CHECK(message_id_for(42) == message_id_for(42));
}

TEST_CASE("hostile bodies are malformed - not a crash", "[envelope]") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto r = parse_event(deep);
  CHECK_FALSE(r.event);
  CHECK_THAT(r.error, Catch::Contains("nested deeper than 64 levels"));

  const std::string deep_content =
      R"({"sequenceNumber":1,"occurredAt":"2026-11-21T10:00:00.000Z","name":"SpecialOfferCreated",)"
      R"("content":{"id":1,"description":"a","extra":)" +
      std::string(100000, '{') + std::string(100000, '}') + "}}";
  r = parse_event(deep_content);
  CHECK_FALSE(r.event);
  CHECK_THAT(r.error, Catch::Contains("nested deeper"));

  // Brackets inside strings are text, not nesting.
  const std::string brackets = build_event_json(3, "2026-11-21T10:00:00.000Z", kOfferCreated,
                                                build_offer_json(1, std::string(500, '[')));
  CHECK(parse_event(brackets).event);

  r = parse_event(std::string(kMaxEventBytes + 1, ' '));
  CHECK_FALSE(r.event);
  CHECK_THAT(r.error, Catch::Contains("larger than 1024 KiB"));
}

// Found by fuzz_envelope: rapidjson decodes a lone low surrogate escape to invalid UTF-8, so an
// event was accepted whose strings could not be written back as JSON.
TEST_CASE("a lone low surrogate escape is malformed - a surrogate pair is text", "[envelope]") {
  const std::string lone = build_event_json(1, "2026-11-21T10:00:00.000Z", kOfferCreated,
                                            R"({"id":1,"description":"a\udc00b"})");
  const auto r = parse_event(lone);
  CHECK_FALSE(r.event);
  CHECK_THAT(r.error, Catch::Contains("lone low surrogate"));

  const auto pair =
      parse_event(build_event_json(1, "2026-11-21T10:00:00.000Z", kOfferCreated,
                                   R"({"id":1,"description":"\ud83d\ude00 \\udc00"})"));
  REQUIRE(pair.event);
  CHECK(pair.event->offer.description == "\xf0\x9f\x98\x80 \\udc00");
}
