#include "os/inotify_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "os/background_call.hpp"
#include "os/wait_queue.hpp"

namespace wg {
namespace {

bool is_lock_file(std::string_view name) {
  return name.rfind("gpu-", 0) == 0 && name.size() > 9 && name.substr(name.size() - 5) == ".lock";
}

// poll's timeout for `deadline`: rounded up, so that a wait never ends a little before
// it; capped, since a far deadline (none at all) would not fit an int.
int poll_timeout(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 3'600'000)) + 1;
}

}  // namespace

InotifyWatch::InotifyWatch(const std::string& lock_dir) : lock_dir_(lock_dir) {
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGINT);
  sigaddset(&waited, SIGTERM);
  sigprocmask(SIG_BLOCK, &waited, &previous_mask_);
  signals_ = UniqueFd(signalfd(-1, &waited, SFD_CLOEXEC | SFD_NONBLOCK));
  inotify_ = UniqueFd(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  watch_directories();
}

// A claim ends when its holder's descriptors close; its writable one reports that (see
// lock_dir.cpp). Read-only closes are failed claim attempts: not watched. A ticket ends
// when it is removed or its owner dies (its writable descriptor closes), and changes
// when rewritten.
void InotifyWatch::watch_directories() {
  if (!inotify_.valid()) return;
  // The queue directory removed or moved is seen here: while a descriptor of it is open,
  // its own watch is not told.
  if (lock_watch_ < 0) {
    lock_watch_ = inotify_add_watch(inotify_.get(), lock_dir_.c_str(), IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM);
  }
  if (queue_watch_ < 0) {
    queue_watch_ = inotify_add_watch(inotify_.get(), queue_path(lock_dir_).c_str(),
                                     IN_CLOSE_WRITE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO);
  }
}

InotifyWatch::~InotifyWatch() {
  signals_.reset();
  // Signals that arrived in the meantime stay pending and fire when unblocked, as they should.
  sigprocmask(SIG_SETMASK, &previous_mask_, nullptr);
}

bool InotifyWatch::drain_inotify(const WaitFor& wanted) {
  alignas(inotify_event) char buffer[4096];
  bool relevant = false;
  for (;;) {
    ssize_t length = read(inotify_.get(), buffer, sizeof buffer);
    if (length <= 0) return relevant;
    for (ssize_t offset = 0; offset < length;) {
      auto* event = reinterpret_cast<inotify_event*>(buffer + offset);
      std::string name = event->len > 0 ? event->name : "";
      bool lock_dir = event->wd == lock_watch_;
      if (lock_dir && wanted.releases && (event->mask & IN_CLOSE_WRITE) && is_lock_file(name)) relevant = true;
      if (lock_dir && name == "queue" && (event->mask & (IN_DELETE | IN_MOVED_FROM))) {
        inotify_rm_watch(inotify_.get(), queue_watch_);
        queue_watch_ = -1;
        relevant = true;
      }
      if (!lock_dir && wanted.tickets.count(name)) relevant = true;
      // A directory itself went away (rm -rf): look again, and watch the new one.
      if (event->mask & IN_IGNORED) {
        (lock_dir ? lock_watch_ : queue_watch_) = -1;
        relevant = true;
      }
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

int InotifyWatch::read_signal() {
  signalfd_siginfo info{};
  if (read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    return static_cast<int>(info.ssi_signo);
  }
  return 0;
}

WakeEvent InotifyWatch::wait_until(std::chrono::steady_clock::time_point deadline) {
  return wait_until(deadline, WaitFor{});
}

WakeEvent InotifyWatch::wait_until(std::chrono::steady_clock::time_point deadline, const WaitFor& wanted) {
  if (!inotify_.valid() && wanted.check) return poll_checks(deadline, wanted);
  watch_directories();  // made again by the last claim attempt or ticket
  for (;;) {
    if (std::chrono::steady_clock::now() >= deadline) return {Wake::deadline, 0};
    pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {inotify_.get(), POLLIN, 0}};
    int ready = poll(fds, 2, poll_timeout(deadline));
    if (ready <= 0) continue;
    if (fds[0].revents & POLLIN) {
      if (int signal = read_signal()) return {Wake::signal, signal};
    }
    if ((fds[1].revents & POLLIN) && drain_inotify(wanted)) return {Wake::claims_changed, 0};
  }
}

WakeEvent InotifyWatch::poll_checks(std::chrono::steady_clock::time_point deadline, const WaitFor& wanted) {
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return {Wake::deadline, 0};
    pollfd signals = {signals_.get(), POLLIN, 0};
    if (poll(&signals, 1, poll_timeout(std::min(deadline, now + wanted.check_every))) > 0) {
      if (int signal = read_signal()) return {Wake::signal, signal};
    }
    if (wanted.check()) return {Wake::claims_changed, 0};
  }
}

// The caller returns at once on a signal or the deadline, whatever the driver does; an
// abandoned call dies with the process (claims come after driver calls, so none is held).
WakeEvent InotifyWatch::run_until(std::function<void()> work, std::chrono::steady_clock::time_point deadline) {
  BackgroundCall call(std::move(work));
  for (;;) {
    if (call.finished()) {
      call.join();
      return {Wake::done, 0};
    }
    if (std::chrono::steady_clock::now() >= deadline) return {Wake::deadline, 0};
    pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {call.done_fd(), POLLIN, 0}};
    if (poll(fds, 2, poll_timeout(deadline)) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      if (int signal = read_signal()) return {Wake::signal, signal};
    }
  }
}

}  // namespace wg
