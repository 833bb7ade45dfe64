#include "os/live_terminal.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <sstream>

namespace wg {

LiveTerminal::LiveTerminal(std::ostream& out, bool out_is_terminal) : out_(out), out_is_terminal_(out_is_terminal) {
  // Keys only when the view is on that terminal too: `--watch | less` leaves stdin to less.
  // And only in the terminal's foreground: changing its modes from the background stops
  // the process (SIGTTOU).
  if (out_is_terminal_ && isatty(STDIN_FILENO) == 1 && tcgetpgrp(STDIN_FILENO) == getpgrp() &&
      tcgetattr(STDIN_FILENO, &saved_) == 0) {
    struct termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    keys_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  if (out_is_terminal_) out_ << "\033[?25l\033[H\033[2J" << std::flush;  // hide the cursor, start on a clean screen
}

LiveTerminal::~LiveTerminal() {
  if (out_is_terminal_) out_ << "\033[?25h" << std::flush;
  if (keys_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
}

void LiveTerminal::show(const std::string& frame) {
  if (!out_is_terminal_) {
    out_ << frame << "\n" << std::flush;
    return;
  }
  std::string drawn = "\033[H";
  std::istringstream lines(frame);
  for (std::string line; std::getline(lines, line);) drawn += line + "\033[K\n";
  out_ << drawn << "\033[J" << std::flush;
}

LiveEvent LiveTerminal::wait_until(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return LiveEvent::tick;
    pollfd fds[2] = {{signals_.fd(), POLLIN, 0}, {keys_ ? STDIN_FILENO : -1, POLLIN, 0}};
    int timeout = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 3'600'000)) + 1;
    if (poll(fds, 2, timeout) <= 0) continue;
    if ((fds[0].revents & POLLIN) && signals_.take() != 0) return LiveEvent::quit;
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char key = 0;
      if (read(STDIN_FILENO, &key, 1) != 1) continue;
      if (key == 'q' || key == 'Q' || key == '\x03') return LiveEvent::quit;
    }
  }
}

}  // namespace wg
