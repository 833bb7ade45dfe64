#include "os/inotify_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

namespace wg {
namespace {

bool is_lock_file(std::string_view name) {
  return name.rfind("gpu-", 0) == 0 && name.size() > 9 && name.substr(name.size() - 5) == ".lock";
}

}  // namespace

InotifyWatch::InotifyWatch(const std::string& lock_dir) {
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGINT);
  sigaddset(&waited, SIGTERM);
  sigprocmask(SIG_BLOCK, &waited, &previous_mask_);
  signals_ = UniqueFd(signalfd(-1, &waited, SFD_CLOEXEC | SFD_NONBLOCK));
  inotify_ = UniqueFd(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  // A claim ends when its holder's descriptors close; its writable one reports that
  // (see lock_dir.cpp). Read-only closes are failed claim attempts: not watched.
  if (inotify_.valid() && inotify_add_watch(inotify_.get(), lock_dir.c_str(), IN_CLOSE_WRITE) < 0) {
    inotify_.reset();
  }
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
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

WakeEvent InotifyWatch::wait_until(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {Wake::deadline, 0};
    pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {inotify_.get(), POLLIN, 0}};
    // Round up so that a wait never ends a little before its deadline.
    int ready = poll(fds, 2, static_cast<int>(left.count()) + 1);
    if (ready <= 0) continue;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        return {Wake::signal, static_cast<int>(info.ssi_signo)};
      }
    }
    if ((fds[1].revents & POLLIN) && drain_inotify()) return {Wake::claims_changed, 0};
  }
}

}  // namespace wg
