#pragma once

#include <string>
#include <vector>

#include "shared/common/settings.hpp"

namespace offers::bench {

// The raw broker path, with rabbitmq-c alone: no Redis, no application work, the same topology
// shape and message size as the system, persistent messages, confirms with a window, manual
// multi-acks. Messages carry their send time (steady clock) in an x-sent-ns header.

// A contract-shaped event body for sequence number seq.
std::string sample_event(long seq);

// Publishes n events to the fanout exchange, keeping up to window unconfirmed; paced at
// rate events/s when rate > 0. Returns the seconds until the last confirm. For the ceiling every
// message carries one body built once; a backlog for the subscribers needs a distinct event each.
enum class Bodies { Fixed, Distinct };
double raw_publish(const AmqpEndpoint& endpoint, long n, int window, double rate,
                   Bodies bodies = Bodies::Fixed, long first_seq = 1);

struct Drain {
  double seconds = 0;              // first delivery to last
  std::vector<double> latency_us;  // send to receive
};
// Consumes n messages from a queue with the given prefetch and acknowledges them in batches.
Drain raw_consume(const AmqpEndpoint& endpoint, const std::string& queue, long n, int prefetch);

double now_seconds();

}  // namespace offers::bench
