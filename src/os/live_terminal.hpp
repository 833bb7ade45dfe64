#pragma once
// The real LiveScreen. On a terminal: keys read one at a time without echo, the cursor
// hidden, each frame drawn over the last from the top, line by line, each line ending in
// "clear to end of line" and the frame in "clear below", so nothing is erased first and
// nothing flickers over slow links. Everything is restored on destruction. Elsewhere
// (piped) frames simply follow one another.

#include <termios.h>

#include <ostream>

#include "core/live_screen.hpp"
#include "os/signal_catcher.hpp"

namespace wg {

class LiveTerminal : public LiveScreen {
 public:
  LiveTerminal(std::ostream& out, bool out_is_terminal);
  LiveTerminal(const LiveTerminal&) = delete;
  LiveTerminal& operator=(const LiveTerminal&) = delete;
  ~LiveTerminal() override;

  void show(const std::string& frame) override;
  LiveEvent wait_until(std::chrono::steady_clock::time_point deadline) override;

 private:
  std::ostream& out_;
  bool out_is_terminal_;
  bool keys_ = false;  // stdin is a terminal put in non-canonical mode
  struct termios saved_ {};
  SignalCatcher signals_;  // Ctrl-C ends the view as q does
};

}  // namespace wg
