#include <cstdio>
#include <cstring>
#include <iostream>

#include "shared/amqp/topology.hpp"
#include "tools/dlq/dead_letters.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: offers-dlq SUBSCRIBER COMMAND [ARG]\n"
               "  SUBSCRIBER  loyalty | notifications | statistics\n"
               "  list [N]             the oldest N dead letters (default 100), one a line\n"
               "  show POS|MESSAGE_ID  headers and body of one dead letter\n"
               "  replay POS|MESSAGE_ID|--all  move into the subscriber's queue (S only)\n"
               "  purge POS|MESSAGE_ID|--all   delete\n"
               "The broker comes from AMQP_URL (default amqp://guest:guest@localhost:5672/).\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string subscriber = argv[1], command = argv[2];
  bool known = false;
  for (auto s : offers::kSubscribers) known = known || s == subscriber;
  if (!known) return usage();
  offers::AmqpEndpoint endpoint;
  try {
    endpoint = offers::load_common(offers::process_env(), 0).amqp;
  } catch (const offers::ConfigError& e) {
    std::fprintf(stderr, "offers-dlq: configuration error: %s\n", e.what());
    return 2;
  }
  try {
    offers::DeadLetters dlq(endpoint, subscriber);
    if (command == "list") {
      const size_t limit = argc > 3 ? std::stoul(argv[3]) : 100;
      dlq.list(std::cout, limit);
      return 0;
    }
    if (argc < 4) return usage();
    const auto which = offers::DeadLetters::Selector::parse(argv[3]);
    if (!which) return usage();
    if (command == "show") {
      if (which->all) return usage();
      if (dlq.show(std::cout, *which)) return 0;
      std::fprintf(stderr, "offers-dlq: no such dead letter: %s\n", argv[3]);
      return 1;
    }
    if (command == "replay" || command == "purge") {
      const size_t n =
          command == "replay" ? dlq.replay(std::cout, *which) : dlq.purge(std::cout, *which);
      if (n == 0 && !which->all) {
        std::fprintf(stderr, "offers-dlq: no such dead letter: %s\n", argv[3]);
        return 1;
      }
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "offers-dlq: %s\n", e.what());
    return 1;
  }
  return usage();
}
