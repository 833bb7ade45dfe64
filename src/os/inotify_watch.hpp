#pragma once
// The real ChangeWatch: inotify on the lock directory, SIGINT/SIGTERM through a
// SignalCatcher. While it exists those signals are blocked; the destructor restores the
// signal mask, so it must be gone before exec (the mask is inherited). Driver calls run
// on a thread of their own (BackgroundCall) while this thread waits for them.

#include <sys/inotify.h>

#include <map>
#include <string>

#include "core/change_watch.hpp"
#include "os/fd.hpp"
#include "os/signal_catcher.hpp"

namespace wg {

class InotifyWatch : public ChangeWatch {
 public:
  // Watches `lock_dir` for closed lock files. Without inotify (a missing directory, no
  // watches left) it still sleeps and reports signals: waiting falls back to polling.
  explicit InotifyWatch(const std::string& lock_dir);
  InotifyWatch(const InotifyWatch&) = delete;
  InotifyWatch& operator=(const InotifyWatch&) = delete;
  ~InotifyWatch() override = default;

  WakeEvent wait_until(std::chrono::steady_clock::time_point deadline) override;
  WakeEvent wait_until(std::chrono::steady_clock::time_point deadline, const WaitFor& wanted) override;
  WakeEvent run_until(std::function<void()> work, std::chrono::steady_clock::time_point deadline) override;
  bool notified() const override { return inotify_.valid(); }

 private:
  bool drain_inotify(const WaitFor& wanted);
  bool lock_dir_event(const inotify_event& event, const WaitFor& wanted);
  enum class TicketWatch { watched, gone, cannot_watch };
  TicketWatch watch_for(const WaitFor& wanted);
  WakeEvent poll_checks(std::chrono::steady_clock::time_point deadline, const WaitFor& wanted);
  std::string lock_dir_;
  int lock_watch_ = -1;                        // inotify watch of the lock directory, -1 when none
  std::map<std::string, int> ticket_watches_;  // older waiters' tickets watched: name -> watch
  SignalCatcher signals_;
  UniqueFd inotify_;
};

}  // namespace wg
