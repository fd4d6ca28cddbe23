#include <catch2/catch.hpp>

#include "shared/http/http_client.hpp"

using namespace offers;

TEST_CASE("the next page is read from a Link header", "[feed]") {
  CHECK(link_target(R"(</events?start=11&end=21>; rel="next")", "next") ==
        std::optional<std::string>("/events?start=11&end=21"));
  CHECK(link_target(R"(</events?start=1>; rel="prev", </events?start=21>; rel="next")", "next") ==
        std::optional<std::string>("/events?start=21"));
  CHECK_FALSE(link_target(R"(</events?start=1>; rel="prev")", "next"));
  CHECK_FALSE(link_target("", "next"));
  CHECK_FALSE(link_target("</events?start=1", "next"));
}
