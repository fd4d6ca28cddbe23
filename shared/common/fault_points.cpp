#include "shared/common/fault_points.hpp"

#ifdef OFFERS_FAULT_POINTS
#include <signal.h>

#include <cstdlib>
#include <cstring>

namespace offers {

void fault_point(const char* name) {
  static const char* armed = std::getenv("FAULT_POINT");
  static long remaining = [] {
    const char* after = std::getenv("FAULT_AFTER");
    return after ? std::atol(after) : 1L;
  }();
  if (armed == nullptr || std::strcmp(armed, name) != 0) return;
  if (--remaining <= 0) raise(SIGKILL);
}

}  // namespace offers
#endif
