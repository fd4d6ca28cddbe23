#pragma once

#include <functional>

#include "publisher/offer_store.hpp"
#include "shared/http_service.hpp"

namespace offers {

// The special-offers REST API: /offers CRUD and the /events feed.
// after_write runs after every committed change with the event it appended (for the relay).
void add_offer_routes(HttpService& http, OfferStore& store, int events_page_limit,
                      std::function<void(OutboxEvent&&)> after_write);

}  // namespace offers
