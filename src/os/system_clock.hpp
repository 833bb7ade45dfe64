#pragma once
// The real Clock: steady_clock.

#include "core/clock.hpp"

namespace wg {

class SystemClock : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override;
};

}  // namespace wg
