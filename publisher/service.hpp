#pragma once

#include "shared/common/settings.hpp"

namespace offers {

// Runs special-offers until SIGTERM or SIGINT; returns the process exit code.
int run_special_offers(const PublisherSettings& settings);

}  // namespace offers
