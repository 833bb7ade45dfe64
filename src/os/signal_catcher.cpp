#include "os/signal_catcher.hpp"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdlib>

namespace wg {
namespace {

// pthread_sigmask, not sigprocmask: the process has threads (BackgroundCall), and only
// this thread's mask is meant. It fails only for arguments that are wrong by
// construction; a mask left blocked would make the command exec'd later deaf to Ctrl-C,
// so that is not carried on with.
void set_mask(const sigset_t& mask) {
  if (pthread_sigmask(SIG_SETMASK, &mask, nullptr) != 0) std::abort();
}

}  // namespace

SignalCatcher::SignalCatcher() {
  sigset_t caught;
  sigemptyset(&caught);
  sigaddset(&caught, SIGINT);
  sigaddset(&caught, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &caught, &previous_mask_) != 0) return;
  fd_ = UniqueFd(signalfd(-1, &caught, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_.valid()) set_mask(previous_mask_);
}

SignalCatcher::~SignalCatcher() {
  if (!fd_.valid()) return;  // nothing was blocked, or it was restored already
  fd_.reset();
  set_mask(previous_mask_);
}

int SignalCatcher::take() {
  signalfd_siginfo info{};
  if (fd_.valid() && read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    return static_cast<int>(info.ssi_signo);
  }
  return 0;
}

}  // namespace wg
