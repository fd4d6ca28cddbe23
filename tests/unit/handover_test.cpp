#include "publisher/handover.hpp"

#include <catch2/catch.hpp>

using namespace offers;

namespace {
OutboxEvent event(int64_t seq) { return OutboxEvent{seq, "{}", "SpecialOfferCreated -"}; }
}  // namespace

TEST_CASE("the hand-over keeps events only while a relay is attached, up to its capacity",
          "[handover]") {
  HandOver h(2);
  int wakes = 0;
  h.push(event(1));  // nobody attached: dropped, the outbox still has it
  CHECK(h.take().empty());

  h.attach([&] { ++wakes; });
  h.push(event(2));
  h.push(event(3));
  h.push(event(4));  // over capacity: dropped
  CHECK(wakes == 2);
  const auto taken = h.take();
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].sequence_number == 2);
  CHECK(taken[1].sequence_number == 3);
  CHECK(h.take().empty());

  h.push(event(5));
  h.detach();  // what was not taken goes, and nothing wakes a detached relay
  h.push(event(6));
  CHECK(wakes == 3);
  CHECK(h.take().empty());
}
