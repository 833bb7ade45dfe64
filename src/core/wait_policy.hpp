#pragma once
// When a waiter looks at the driver again: the regular poll, quick re-checks after a
// release, closer looks at a GPU cooling down, and which GPUs were released too recently
// for their readings to be their own. Pure: decisions and times in, delays out; the
// caller reads the clock and does the sleeping.

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/gpu.hpp"
#include "core/selector.hpp"

namespace wg {

// What paces a waiter, from its options.
struct WaitPace {
  std::chrono::milliseconds poll_interval{1000};  // --poll-interval
  std::chrono::milliseconds sample_window{5000};  // --sample-window: readings averaged over it
  // --max-util or --max-power set: a released GPU's averaged readings lag by a whole window.
  enum class Readings { instant, averaged } readings = Readings::instant;
};

// Whether a waiter could be served by a release, or waits behind older waiters.
enum class Standing { servable, behind };

// Whether a claim is held through a deleted lock file, whose end wakes nobody.
enum class DeletedClaims { none, held };

// A GPU too hot, or cooling down, is among the reasons a GPU was rejected.
bool cooling(const Decision& decision);

// True when nothing but claims, the allocation and access keep GPUs out: readings play
// no part, so a release needs no second look.
bool blocked_only_by_claims(const Decision& decision);

class WaitPolicy {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit WaitPolicy(WaitPace pace) : pace_(pace) {}

  // A change woke the waiter (a claim released, an older ticket gone): quick re-checks begin.
  void woken() { settle_step_ = 0; }

  // True during the quick re-checks after a wake: holders need not be read, nor progress shown.
  bool quick_recheck() const { return settle_step_ >= 0; }

  // How long until the next look at the driver after `decision`; moves the re-check series
  // on. One quick re-check after a wake (the kernel reports a closed lock file just before
  // it drops the lock); more, growing to the poll interval, while a reading rather than a
  // claim keeps a GPU out. A GPU cooling down is looked at every fifth of a window.
  std::chrono::milliseconds next_delay(const Decision& decision);

  // When to look next: after next_delay, sooner for a claim held through a deleted lock
  // file (polled every 250 ms), never after `deadline` (the --timeout).
  TimePoint next_attempt(const Decision& decision, TimePoint now, DeletedClaims deleted,
                         std::optional<TimePoint> deadline);

  // Fills `selection.cooling_ms` for the GPUs seen above `selection.max_temp_c` less than a
  // sample window ago: they must stay below it a whole window, so one hovering at the limit
  // does not flip back and forth. Nothing without --max-temp.
  void track_cooling(const Machine& machine, SelectionOptions& selection, TimePoint now);

  // The GPUs held by a claim at an earlier look and free now, for less than settle_window():
  // their readings may still be their holder's.
  std::set<unsigned> settling(const Decision& decision, TimePoint now);

  // How long a released GPU's readings may still be its holder's: memory frees within
  // milliseconds, an average over the sample window lags by the whole window.
  std::chrono::milliseconds settle_window() const;

  // Without inotify, how often to look at the claims and tickets: every 5 ms when a release
  // could serve the waiter, every 20 ms behind older waiters (hundreds looking every 5 ms
  // cost a core).
  static std::chrono::milliseconds check_every(Standing standing);

 private:
  WaitPace pace_;
  int settle_step_ = -1;  // position in the quick re-checks after a wake; -1 when off
  std::map<std::string, TimePoint> last_hot_;  // UUID -> last seen above --max-temp
  std::set<unsigned> seen_claimed_;             // GPUs claimed at the latest look
  std::map<unsigned, TimePoint> released_at_;   // NVML index -> first seen free again
};

}  // namespace wg
