#pragma once
// The real Clock: steady_clock and nanosleep.

#include "core/clock.hpp"

namespace wg {

class SystemClock : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override;
  void sleep_for(std::chrono::milliseconds duration) override;
};

}  // namespace wg
