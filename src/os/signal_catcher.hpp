#pragma once
// SIGINT and SIGTERM as events to poll for instead of the end of the process. While a
// SignalCatcher exists they are blocked and wait in a signalfd; the destructor restores
// the signal mask, so it must be gone before exec (the mask is inherited), and signals
// that arrived in the meantime then act as usual.

#include <signal.h>

#include "os/fd.hpp"

namespace wg {

class [[nodiscard]] SignalCatcher {
 public:
  // Blocks SIGINT and SIGTERM in this thread (threads started later inherit that) and
  // opens the signalfd. When it cannot, the mask stays as it was: the signals then end
  // the process as they would without a catcher.
  SignalCatcher();
  SignalCatcher(const SignalCatcher&) = delete;
  SignalCatcher& operator=(const SignalCatcher&) = delete;
  ~SignalCatcher();

  // The signalfd, readable when a signal waits; -1 when there is none (poll skips it).
  int fd() const { return fd_.get(); }

  // SIGINT or SIGTERM when one is waiting, taken from the signalfd; else 0.
  int take();

 private:
  sigset_t previous_mask_{};
  UniqueFd fd_;
};

}  // namespace wg
