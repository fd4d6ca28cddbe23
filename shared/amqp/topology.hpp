#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

#include "shared/common/settings.hpp"

namespace offers {

class AmqpConnection;

inline constexpr std::string_view kExchange = "special-offers";
inline constexpr std::string_view kDeadLetterExchange = "special-offers.dlx";
inline constexpr std::array<std::string_view, 3> kSubscribers = {"loyalty", "notifications",
                                                                 "statistics"};

// The queue names of one subscriber.
struct SubscriberQueues {
  std::string main, retry, dlq;
  explicit SubscriberQueues(std::string_view subscriber)
      : main(subscriber),
        retry(std::string(subscriber) + ".retry"),
        dlq(std::string(subscriber) + ".dlq") {}
};

// A queue or exchange exists with other arguments. Fatal at start-up: the operator must fix it.
class TopologyMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Declares both exchanges, the nine queues and their bindings on an open channel, exactly as
// rabbitmq/definitions.json does.
void declare_topology(AmqpConnection& conn, uint16_t channel, QueueType type, int delivery_limit);

}  // namespace offers
