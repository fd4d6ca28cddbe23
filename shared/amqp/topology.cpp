#include "shared/amqp/topology.hpp"

#include <amqp.h>
#include <amqp_framing.h>

#include <vector>

#include "shared/amqp/amqp_connection.hpp"

namespace offers {
namespace {

struct Args {
  std::vector<amqp_table_entry_t> entries;
  void add(std::string_view key, std::string_view value) {
    amqp_table_entry_t e{};
    e.key = amqp_view(key);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_view(value);
    entries.push_back(e);
  }
  void add(std::string_view key, int64_t value) {
    amqp_table_entry_t e{};
    e.key = amqp_view(key);
    e.value.kind = AMQP_FIELD_KIND_I64;
    e.value.value.i64 = value;
    entries.push_back(e);
  }
  amqp_table_t table() { return amqp_table_t{static_cast<int>(entries.size()), entries.data()}; }
};

void run(AmqpConnection& conn, std::string_view what) {
  try {
    conn.check(amqp_get_rpc_reply(conn.raw()), what);
  } catch (const AmqpError& e) {
    if (e.reply_code() == AMQP_PRECONDITION_FAILED) throw TopologyMismatch(e.what());
    throw;
  }
}

void declare_exchange(AmqpConnection& conn, uint16_t ch, std::string_view name,
                      std::string_view type) {
  amqp_exchange_declare(conn.raw(), ch, amqp_view(name), amqp_view(type), 0, 1, 0, 0,
                        amqp_empty_table);
  run(conn, "exchange.declare " + std::string(name));
}

void declare_queue(AmqpConnection& conn, uint16_t ch, std::string_view name, Args& args) {
  amqp_queue_declare(conn.raw(), ch, amqp_view(name), 0, 1, 0, 0, args.table());
  run(conn, "queue.declare " + std::string(name));
}

void bind_queue(AmqpConnection& conn, uint16_t ch, std::string_view queue,
                std::string_view exchange, std::string_view key) {
  amqp_queue_bind(conn.raw(), ch, amqp_view(queue), amqp_view(exchange), amqp_view(key),
                  amqp_empty_table);
  run(conn, "queue.bind " + std::string(queue));
}

}  // namespace

void declare_topology(AmqpConnection& conn, uint16_t ch, QueueType type, int delivery_limit) {
  declare_exchange(conn, ch, kExchange, "fanout");
  declare_exchange(conn, ch, kDeadLetterExchange, "direct");
  for (std::string_view s : kSubscribers) {
    const SubscriberQueues q(s);
    // Quorum queues that dead-letter (S to S.dlq, S.retry back to S) do it at least once: the
    // message leaves its queue only once the target confirmed it. That needs reject-publish,
    // so a full queue refuses publishes (a nack: the relay resends) instead of dropping.
    auto typed = [&](Args& a, bool limit, bool dead_letters) {
      if (type == QueueType::Quorum) {
        a.add("x-queue-type", "quorum");
        if (limit) a.add("x-delivery-limit", delivery_limit);
        if (dead_letters) {
          a.add("x-dead-letter-strategy", "at-least-once");
          a.add("x-overflow", "reject-publish");
        }
      }
    };
    Args main;
    main.add("x-dead-letter-exchange", kDeadLetterExchange);
    main.add("x-dead-letter-routing-key", s);
    typed(main, true, true);
    declare_queue(conn, ch, q.main, main);
    bind_queue(conn, ch, q.main, kExchange, "");

    Args retry;
    retry.add("x-dead-letter-exchange", "");
    retry.add("x-dead-letter-routing-key", s);
    typed(retry, false, true);
    declare_queue(conn, ch, q.retry, retry);

    Args dlq;
    typed(dlq, false, false);
    declare_queue(conn, ch, q.dlq, dlq);
    bind_queue(conn, ch, q.dlq, kDeadLetterExchange, s);
  }
}

}  // namespace offers
