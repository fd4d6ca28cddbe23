#pragma once

#include "publisher/offer_store.hpp"
#include "publisher/outbox_writer.hpp"
#include "shared/http/http_service.hpp"

namespace offers {

// The special-offers REST API: /offers CRUD and the /events feed. Reads go through the store,
// changes through the writer.
void add_offer_routes(HttpService& http, OfferStore& store, OutboxWriter& writer,
                      int events_page_limit);

}  // namespace offers
