#pragma once
// Time, behind an interface so that waiting can be tested without sleeping.

#include <chrono>

namespace wg {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
};

}  // namespace wg
