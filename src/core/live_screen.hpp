#pragma once
// `--status --watch`: a view redrawn in place until the user quits.

#include <chrono>
#include <string>

namespace wg {

enum class LiveEvent { tick, quit };

class LiveScreen {
 public:
  virtual ~LiveScreen() = default;
  // Puts `frame` on the screen in place of the last one.
  virtual void show(const std::string& frame) = 0;
  // Waits until `deadline` (tick) or until the user quits: q, Ctrl-C, SIGINT or SIGTERM.
  virtual LiveEvent wait_until(std::chrono::steady_clock::time_point deadline) = 0;
};

}  // namespace wg
