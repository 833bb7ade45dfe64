#pragma once
// Sleeping while waiting for a GPU, woken early when a claim may have been released
// or when the user interrupts.

#include <chrono>

namespace wg {

enum class Wake { deadline, claims_changed, signal };

struct WakeEvent {
  Wake kind = Wake::deadline;
  int signal = 0;  // SIGINT or SIGTERM for Wake::signal
};

class ChangeWatch {
 public:
  virtual ~ChangeWatch() = default;
  // Blocks until a lock file was closed (a claim may be free), SIGINT/SIGTERM
  // arrives, or `deadline` passes, whichever is first.
  virtual WakeEvent wait_until(std::chrono::steady_clock::time_point deadline) = 0;
};

}  // namespace wg
