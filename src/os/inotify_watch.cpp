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
  // A claim ends when its holder's descriptors close; its writable one reports that
  // (see lock_dir.cpp). Read-only closes are failed claim attempts: not watched.
  watch_directory();
}

void InotifyWatch::watch_directory() {
  watching_ = inotify_.valid() && inotify_add_watch(inotify_.get(), lock_dir_.c_str(), IN_CLOSE_WRITE) >= 0;
}

InotifyWatch::~InotifyWatch() {
  signals_.reset();
  // Signals that arrived in the meantime stay pending and fire when unblocked, as they should.
  sigprocmask(SIG_SETMASK, &previous_mask_, nullptr);
}

bool InotifyWatch::drain_inotify() {
  alignas(inotify_event) char buffer[4096];
  bool relevant = false;
  for (;;) {
    ssize_t length = read(inotify_.get(), buffer, sizeof buffer);
    if (length <= 0) return relevant;
    for (ssize_t offset = 0; offset < length;) {
      auto* event = reinterpret_cast<inotify_event*>(buffer + offset);
      if (event->len > 0 && is_lock_file(event->name)) relevant = true;
      // The directory itself went away (rm -rf): look again, and watch the new one.
      if (event->mask & IN_IGNORED) watching_ = false, relevant = true;
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
  if (!watching_) watch_directory();  // made again by the last claim attempt
  for (;;) {
    if (std::chrono::steady_clock::now() >= deadline) return {Wake::deadline, 0};
    pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {inotify_.get(), POLLIN, 0}};
    int ready = poll(fds, 2, poll_timeout(deadline));
    if (ready <= 0) continue;
    if (fds[0].revents & POLLIN) {
      if (int signal = read_signal()) return {Wake::signal, signal};
    }
    if ((fds[1].revents & POLLIN) && drain_inotify()) return {Wake::claims_changed, 0};
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
