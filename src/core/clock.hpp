#pragma once
// Time, behind an interface so that waiting can be tested without sleeping (the
// ChangeWatch does the sleeping).

#include <chrono>

namespace wg {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
};

}  // namespace wg
