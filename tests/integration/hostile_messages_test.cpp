#include <catch2/catch.hpp>
#include <string>

#include "shared/common/envelope.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/json_doc.hpp"
#include "tests/support/wait.hpp"

using namespace offers;
using namespace offers::test;
using namespace std::chrono_literals;

namespace {

std::string created(int64_t seq) {
  return build_event_json(seq, "2026-11-21T10:00:00.000Z", kOfferCreated,
                          build_offer_json(seq, "offer " + std::to_string(seq)));
}

int64_t last_sequence(Service& statistics) {
  return json(statistics.get("/stats").body)["lastSequenceNumber"].GetInt64();
}

}  // namespace

TEST_CASE(
    "huge, header-stuffed and deeply nested messages are dead-lettered in bounded memory - "
    "the flow continues",
    "[subscribers]") {
  Sandbox box;
  auto statistics = box.start("statistics");
  auto conn = box.connect_amqp(true);
  const auto publish = [&](const Properties& props, const std::string& body) {
    publish_confirmed(*conn, "special-offers", "", props, body);
  };
  publish(event_properties("special-offers-1", "SpecialOfferCreated"), created(1));
  REQUIRE(wait_until([&] { return last_sequence(*statistics) == 1; }, 20s));
  const long peak_before = proc_status_kib(statistics->process().pid(), "VmHWM");

  constexpr size_t kBig = 10 * 1024 * 1024;
  publish(event_properties("big", "SpecialOfferCreated"), std::string(kBig, 'x'));
  CHECK(wait_until([&] { return box.queue_depth("statistics.dlq") == 1; }, 30s));
  const long peak_after = proc_status_kib(statistics->process().pid(), "VmHWM");
  INFO("peak resident memory before " << peak_before << " KiB, after " << peak_after << " KiB");
  CHECK(peak_after - peak_before < static_cast<long>(4 * kBig / 1024));

  Properties stuffed = event_properties("stuffed", "SpecialOfferCreated");
  for (int i = 0; i < 3000; ++i)
    stuffed.headers.push_back({"x-h" + std::to_string(i), HeaderValue{std::string("v")}});
  publish(stuffed, created(2));
  CHECK(wait_until([&] { return box.queue_depth("statistics.dlq") == 2; }, 30s));

  publish(event_properties("nested", "SpecialOfferCreated"),
          std::string(100000, '[') + std::string(100000, ']'));
  CHECK(wait_until([&] { return box.queue_depth("statistics.dlq") == 3; }, 30s));

  publish(event_properties("special-offers-3", "SpecialOfferCreated"), created(3));
  CHECK(wait_until([&] { return last_sequence(*statistics) == 3; }, 20s));
  CHECK(statistics->process().running());
  CHECK(metric(*statistics, "deliveries_total{result=\"malformed\"}") == 3);

  // Beyond the broker's max_message_size the publish itself is refused.
  auto other = box.connect_amqp(true);
  CHECK_THROWS(publish_confirmed(*other, "special-offers", "",
                                 event_properties("huge", "SpecialOfferCreated"),
                                 std::string(17 * 1024 * 1024, 'x')));
}
