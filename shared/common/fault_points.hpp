#pragma once

namespace offers {

// Test-only crash points. In builds with OFFERS_FAULT_POINTS, a process whose FAULT_POINT
// variable names this point kills itself with SIGKILL the FAULT_AFTER-th time (default 1) it
// gets here. Release builds (OFFERS_FAULT_POINTS=OFF) compile this to nothing.
#ifdef OFFERS_FAULT_POINTS
void fault_point(const char* name);
#else
inline void fault_point(const char*) {}
#endif

}  // namespace offers
