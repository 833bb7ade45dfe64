#include "os/inotify_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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
  inotify_ = UniqueFd(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  watch_for(WaitFor{});
}

// A claim ends when its holder's descriptors close; its writable one reports that (see
// lock_dir.cpp). Read-only closes are failed claim attempts: not watched. A ticket ends
// when it is unlinked (IN_ATTRIB: its link count) or its owner dies (its writable
// descriptor closes), and changes when rewritten. Only what `wanted` names is watched, so
// that of hundreds of waiters a release wakes only those it could serve.
InotifyWatch::TicketWatch InotifyWatch::watch_for(const WaitFor& wanted) {
  if (!inotify_.valid()) return TicketWatch::watched;
  if (wanted.releases && lock_watch_ < 0) {
    // The queue directory removed or moved is seen here: while a descriptor of it is open,
    // no watch inside it is told.
    lock_watch_ = inotify_add_watch(inotify_.get(), lock_dir_.c_str(), IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM);
  } else if (!wanted.releases && lock_watch_ >= 0) {
    inotify_rm_watch(inotify_.get(), lock_watch_);
    lock_watch_ = -1;
  }
  for (auto watch = ticket_watches_.begin(); watch != ticket_watches_.end();) {
    if (wanted.tickets.count(watch->first)) {
      ++watch;
      continue;
    }
    inotify_rm_watch(inotify_.get(), watch->second);
    watch = ticket_watches_.erase(watch);
  }
  TicketWatch result = TicketWatch::watched;
  for (const auto& name : wanted.tickets) {
    if (ticket_watches_.count(name)) continue;
    int watch = inotify_add_watch(inotify_.get(), (queue_path(lock_dir_) + "/" + name).c_str(),
                                  IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF);
    if (watch >= 0) {
      ticket_watches_[name] = watch;
    } else if (errno == ENOENT) {
      result = TicketWatch::gone;
    } else if (result == TicketWatch::watched) {
      result = TicketWatch::cannot_watch;  // no watches left (fs.inotify.max_user_watches)
    }
  }
  return result;
}

bool InotifyWatch::drain_inotify(const WaitFor& wanted) {
  alignas(inotify_event) char buffer[4096];
  bool relevant = false;
  for (;;) {
    ssize_t length = read(inotify_.get(), buffer, sizeof buffer);
    if (length <= 0) return relevant;
    for (ssize_t offset = 0; offset < length;) {
      auto* event = reinterpret_cast<inotify_event*>(buffer + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if (event->mask & IN_Q_OVERFLOW) {  // events were lost: any of them may have mattered
        relevant = true;
        continue;
      }
      if (event->wd == lock_watch_) {
        relevant = relevant || lock_dir_event(*event, wanted);
        continue;
      }
      for (auto watch = ticket_watches_.begin(); watch != ticket_watches_.end(); ++watch) {
        if (watch->second != event->wd) continue;
        relevant = true;
        if (event->mask & IN_IGNORED) ticket_watches_.erase(watch);
        break;
      }
    }
  }
}

// A lock file closed by a writer (a claim may have ended), the lock directory itself gone
// (rm -rf: look again and watch the new one), or its queue directory removed.
bool InotifyWatch::lock_dir_event(const inotify_event& event, const WaitFor& wanted) {
  std::string name = event.len > 0 ? event.name : "";
  if (event.mask & IN_IGNORED) {
    lock_watch_ = -1;
    return true;
  }
  if (name == "queue" && (event.mask & (IN_DELETE | IN_MOVED_FROM))) return true;
  return wanted.releases && (event.mask & IN_CLOSE_WRITE) && is_lock_file(name);
}

WakeEvent InotifyWatch::wait_until(std::chrono::steady_clock::time_point deadline) {
  return wait_until(deadline, WaitFor{});
}

WakeEvent InotifyWatch::wait_until(std::chrono::steady_clock::time_point deadline, const WaitFor& wanted) {
  if (!inotify_.valid() && wanted.check) return poll_checks(deadline, wanted);
  switch (watch_for(wanted)) {
    case TicketWatch::gone: {
      // Gone already: look again now, unless a signal or the deadline came first.
      if (int signal = signals_.take()) return {Wake::signal, signal};
      if (std::chrono::steady_clock::now() >= deadline) return {Wake::deadline, 0};
      return {Wake::claims_changed, 0};
    }
    case TicketWatch::cannot_watch:
      if (wanted.check) return poll_checks(deadline, wanted);
      break;
    case TicketWatch::watched:
      break;
  }
  for (;;) {
    if (std::chrono::steady_clock::now() >= deadline) return {Wake::deadline, 0};
    pollfd fds[2] = {{signals_.fd(), POLLIN, 0}, {inotify_.get(), POLLIN, 0}};
    int ready = poll(fds, 2, poll_timeout(deadline));
    if (ready <= 0) continue;
    if (fds[0].revents & POLLIN) {
      if (int signal = signals_.take()) return {Wake::signal, signal};
    }
    if ((fds[1].revents & POLLIN) && drain_inotify(wanted)) return {Wake::claims_changed, 0};
  }
}

WakeEvent InotifyWatch::poll_checks(std::chrono::steady_clock::time_point deadline, const WaitFor& wanted) {
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return {Wake::deadline, 0};
    pollfd signals = {signals_.fd(), POLLIN, 0};
    if (poll(&signals, 1, poll_timeout(std::min(deadline, now + wanted.check_every))) > 0) {
      if (int signal = signals_.take()) return {Wake::signal, signal};
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
    pollfd fds[2] = {{signals_.fd(), POLLIN, 0}, {call.done_fd(), POLLIN, 0}};
    if (poll(fds, 2, poll_timeout(deadline)) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      if (int signal = signals_.take()) return {Wake::signal, signal};
    }
  }
}

}  // namespace wg
