#pragma once
// The real ChangeWatch: inotify on the lock directory, SIGINT/SIGTERM through a
// signalfd. While it exists those signals are blocked; the destructor restores the
// signal mask, so it must be gone before exec (the mask is inherited). Driver calls run
// on a thread of their own (BackgroundCall) while this thread waits for them.

#include <signal.h>

#include <string>

#include "core/change_watch.hpp"
#include "os/fd.hpp"

namespace wg {

class InotifyWatch : public ChangeWatch {
 public:
  // Watches `lock_dir` for closed lock files. Without inotify (a missing directory, no
  // watches left) it still sleeps and reports signals: waiting falls back to polling.
  explicit InotifyWatch(const std::string& lock_dir);
  InotifyWatch(const InotifyWatch&) = delete;
  InotifyWatch& operator=(const InotifyWatch&) = delete;
  ~InotifyWatch() override;

  WakeEvent wait_until(std::chrono::steady_clock::time_point deadline) override;
  WakeEvent run_until(std::function<void()> work, std::chrono::steady_clock::time_point deadline) override;

 private:
  bool drain_inotify();
  void watch_directory();
  std::string lock_dir_;
  bool watching_ = false;
  // SIGINT or SIGTERM when one is waiting in the signalfd, else 0.
  int read_signal();
  sigset_t previous_mask_{};
  UniqueFd inotify_;
  UniqueFd signals_;
};

}  // namespace wg
