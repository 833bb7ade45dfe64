#include "os/system_clock.hpp"

namespace wg {

std::chrono::steady_clock::time_point SystemClock::now() { return std::chrono::steady_clock::now(); }

}  // namespace wg
