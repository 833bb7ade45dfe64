#pragma once
// A function run on a thread of its own, so that its caller can stop waiting for it (a
// deadline, a signal) and leave it running: a driver call can block for seconds.

#include <functional>
#include <memory>
#include <thread>

namespace wg {

class [[nodiscard]] BackgroundCall {
 public:
  // Starts `work` on a new thread with every signal blocked there, so that signals stay
  // with the caller. Where no thread (or no eventfd) can be had, runs it here to the end.
  explicit BackgroundCall(std::function<void()> work);
  BackgroundCall(const BackgroundCall&) = delete;
  BackgroundCall& operator=(const BackgroundCall&) = delete;
  // Joins a finished call; an unfinished one is abandoned: it keeps running, owning the
  // state it shares with this object, and dies with the process.
  ~BackgroundCall();

  // Becomes readable once `work` has returned.
  int done_fd() const;
  // True once `work` has returned; what it wrote is then visible to this thread.
  bool finished() const;
  // After finished(): joins the thread and rethrows what `work` threw, if anything.
  void join();

 private:
  struct State;
  static void run(State& state);
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace wg
