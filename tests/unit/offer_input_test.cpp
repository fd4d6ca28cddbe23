#include "publisher/offer_input.hpp"

#include <catch2/catch.hpp>

using namespace offers;

TEST_CASE("valid offer bodies", "[http]") {
  const auto a = check_offer_body(R"({"description":"Two coffees for one"})");
  REQUIRE(a.input);
  CHECK(a.input->description == "Two coffees for one");
  const auto b = check_offer_body(R"({"description":"x","id":5,"unknown":"ignored"})");
  REQUIRE(b.input);
  // 1000 characters of two bytes each is within the limit.
  std::string wide;
  for (int i = 0; i < 1000; ++i) wide += "\xc3\xa9";
  CHECK(check_offer_body("{\"description\":\"" + wide + "\"}").input);
}

TEST_CASE("invalid offer bodies get a reason", "[http]") {
  const std::pair<std::string, std::string> cases[] = {
      {"", "body is empty"},
      {"not json", "not valid JSON"},
      {"{\"description\":", "not valid JSON"},
      {"[]", "JSON object"},
      {"\"text\"", "JSON object"},
      {"{}", "description is required"},
      {R"({"description":42})", "must be a string"},
      {R"({"description":null})", "must be a string"},
      {R"({"description":""})", "must not be empty"},
      {R"({"description":"   "})", "must not be empty"},
      {"{\"description\":\"" + std::string(1001, 'a') + "\"}", "at most 1000"},
      {R"({"description":"ok","id":"seven"})", "id must be an integer"},
      {"{\"description\":\"\xc3\x28\"}", "not valid JSON"},
  };
  for (const auto& [body, reason] : cases) {
    INFO(body.substr(0, 60));
    const auto r = check_offer_body(body);
    CHECK_FALSE(r.input);
    CHECK_THAT(r.error, Catch::Contains(reason));
  }
}

TEST_CASE("ids and ranges parse strictly", "[http]") {
  CHECK(parse_positive_id("7") == 7);
  CHECK_FALSE(parse_positive_id("0"));
  CHECK_FALSE(parse_positive_id("-1"));
  CHECK_FALSE(parse_positive_id("7a"));
  CHECK_FALSE(parse_positive_id(""));
  CHECK_FALSE(parse_positive_id("99999999999999999999"));
  CHECK(parse_non_negative("0") == 0);
  CHECK_FALSE(parse_non_negative("-3"));
  CHECK(utf8_length("\xc3\xa9t\xc3\xa9") == 3);
}

TEST_CASE("a deeply nested offer body is a 400 - not a crash", "[http]") {
  const auto r = check_offer_body(R"({"description":"x","extra":)" + std::string(60000, '[') +
                                  std::string(60000, ']') + "}");
  CHECK_FALSE(r.input);
  CHECK_THAT(r.error, Catch::Contains("nested deeper"));
}

// Found by fuzzing the envelope: the same escape in a POST body made an offer whose event every
// subscriber would have dead-lettered.
TEST_CASE("an offer description with a lone low surrogate escape is a 400", "[http]") {
  const auto r = check_offer_body(R"({"description":"tea \udfff"})");
  CHECK_FALSE(r.input);
  CHECK_THAT(r.error, Catch::Contains("lone low surrogate"));
}
