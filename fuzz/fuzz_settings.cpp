// The settings parsers: whatever a variable holds, the answer is a value or a ConfigError.
#include <string>

#include "shared/common/settings.hpp"

namespace {
template <typename F>
void only_config_errors(F&& f) {
  try {
    f();
  } catch (const offers::ConfigError&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  only_config_errors([&] { offers::parse_duration("D", text); });
  only_config_errors([&] { offers::parse_duration_list("L", text); });
  only_config_errors([&] { offers::parse_int("I", text, -1000, 1000); });
  only_config_errors([&] { offers::parse_amqp_url("AMQP_URL", text); });
  only_config_errors([&] { offers::parse_redis_url("REDIS_URL", text); });
  const auto env = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "HTTP_IDLE_TIMEOUT" || name == "RETRY_DELAYS" || name == "PREFETCH") return text;
    return std::nullopt;
  };
  only_config_errors([&] { offers::load_subscriber(env, 8081); });
  return 0;
}
