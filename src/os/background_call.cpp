#include "os/background_call.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <system_error>

#include "os/fd.hpp"

namespace wg {

struct BackgroundCall::State {
  std::function<void()> work;
  UniqueFd done;
  std::atomic<bool> finished{false};
  std::exception_ptr error;
};

void BackgroundCall::run(State& state) {
  try {
    state.work();
  } catch (...) {
    state.error = std::current_exception();
  }
  state.finished.store(true, std::memory_order_release);
  std::uint64_t one = 1;
  if (state.done.valid()) (void)!write(state.done.get(), &one, sizeof one);
}

BackgroundCall::BackgroundCall(std::function<void()> work) : state_(std::make_shared<State>()) {
  state_->work = std::move(work);
  state_->done = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (state_->done.valid()) {
    // The new thread inherits this mask: SIGINT and SIGTERM must reach the caller's
    // signalfd, never a thread that is stuck in the driver.
    // Without that mask no thread: the work runs here instead, as without an eventfd.
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    if (pthread_sigmask(SIG_SETMASK, &all, &previous) == 0) {
      try {
        thread_ = std::thread([state = state_] { run(*state); });
      } catch (const std::system_error&) {
      }
      // Fails only for arguments wrong by construction; this thread left deaf to every
      // signal is not carried on with.
      if (pthread_sigmask(SIG_SETMASK, &previous, nullptr) != 0) std::abort();
    }
  }
  if (!thread_.joinable()) run(*state_);
}

BackgroundCall::~BackgroundCall() {
  if (!thread_.joinable()) return;
  if (finished()) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

int BackgroundCall::done_fd() const { return state_->done.get(); }

bool BackgroundCall::finished() const { return state_->finished.load(std::memory_order_acquire); }

void BackgroundCall::join() {
  if (thread_.joinable()) thread_.join();
  if (state_->error) std::rethrow_exception(state_->error);
}

}  // namespace wg
