#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "shared/amqp/amqp_connection.hpp"
#include "shared/common/settings.hpp"

namespace offers {

// Operations on one subscriber's dead-letter queue S.dlq. Messages are looked at with basic.get
// and handed back by closing the channel, so a look changes nothing; replay and purge remove
// exactly the messages they name, and a replayed message is removed only after the broker
// confirmed its copy in S.
class DeadLetters {
 public:
  DeadLetters(const AmqpEndpoint& endpoint, const std::string& subscriber);

  // A position in the queue (1 is the oldest) or a message_id.
  struct Selector {
    std::optional<size_t> position;
    std::string message_id;
    bool all = false;
    static std::optional<Selector> parse(const std::string& text);
  };

  void list(std::ostream& out, size_t limit);
  // Returns false when nothing matched.
  bool show(std::ostream& out, const Selector& which);
  // Both return how many messages they moved or removed.
  size_t replay(std::ostream& out, const Selector& which);
  size_t purge(std::ostream& out, const Selector& which);
  uint32_t count();

 private:
  void reconnect();
  // Takes messages (unacknowledged) until one matches; the others stay unacknowledged too.
  std::optional<Message> find(const Selector& which, size_t& position);
  void republish_confirmed(const Message& m);

  AmqpEndpoint endpoint_;
  std::string subscriber_;
  std::string queue_;
  std::unique_ptr<AmqpConnection> conn_;
  uint64_t publish_tag_ = 0;
};

std::string describe_dead_letter(const Message& m, size_t position);

}  // namespace offers
