#pragma once

#include <chrono>

#include "publisher/offer_store.hpp"
#include "publisher/outbox_writer.hpp"
#include "shared/http/http_service.hpp"

namespace offers {

// The special-offers REST API: /offers CRUD and the /events feed. Reads go through the store,
// changes through the writer; a change with an Idempotency-Key keeps its reply for
// idempotency_ttl.
void add_offer_routes(HttpService& http, OfferStore& store, OutboxWriter& writer,
                      int events_page_limit, std::chrono::milliseconds idempotency_ttl);

}  // namespace offers
