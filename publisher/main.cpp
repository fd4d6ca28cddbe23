#include <cstdio>

#include "publisher/service.hpp"

int main() {
  offers::PublisherSettings settings;
  try {
    settings = offers::load_publisher(offers::process_env());
  } catch (const offers::ConfigError& e) {
    std::fprintf(stderr, "special-offers: configuration error: %s\n", e.what());
    return 2;
  }
  return offers::run_special_offers(settings);
}
