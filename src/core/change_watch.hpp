#pragma once
// Sleeping while waiting for a GPU, woken early when a claim may have been released
// or when the user interrupts.

#include <chrono>
#include <functional>
#include <set>
#include <string>

namespace wg {

// `done`: only from run_until, the work finished first.
enum class Wake { deadline, claims_changed, signal, done };

struct WakeEvent {
  Wake kind = Wake::deadline;
  int signal = 0;  // SIGINT or SIGTERM for Wake::signal
};

// What ends a wait besides the deadline and a signal.
struct WaitFor {
  bool releases = true;            // a lock file closed: a claim may have ended
  std::set<std::string> tickets;   // older waiters' tickets that keep GPUs from this one: one ended or changed
  // Without inotify, asked every `check_every` instead: true when one of the above happened.
  std::function<bool()> check;
  std::chrono::milliseconds check_every{5};
};

class ChangeWatch {
 public:
  virtual ~ChangeWatch() = default;
  // Blocks until a lock file was closed (a claim may be free), SIGINT/SIGTERM
  // arrives, or `deadline` passes, whichever is first.
  virtual WakeEvent wait_until(std::chrono::steady_clock::time_point deadline) = 0;

  // The same for what `wanted` names. This default wakes on every release, as fakes want.
  virtual WakeEvent wait_until(std::chrono::steady_clock::time_point deadline, const WaitFor& wanted) {
    (void)wanted;
    return wait_until(deadline);
  }

  // False when no inotify instance could be had: waits then poll WaitFor::check.
  virtual bool notified() const { return true; }

  // Runs `work` (a driver call) until it returns (Wake::done), SIGINT/SIGTERM arrives, or
  // `deadline` passes, whichever is first. In the last two cases `work` is abandoned, still
  // running on a thread of its own: it must own everything it touches, and the process must
  // end without waiting for it. This default runs it here to the end, as fakes want.
  virtual WakeEvent run_until(std::function<void()> work, std::chrono::steady_clock::time_point deadline) {
    (void)deadline;
    work();
    return {Wake::done, 0};
  }
};

}  // namespace wg
