#pragma once
// The progress of a waiter: on a TTY one line rewritten in place; elsewhere a line
// only when what blocks the waiter changes, never the same line every poll.

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

#include "core/queue.hpp"
#include "core/selector.hpp"

namespace wg {

// "1m12s", "45s", "2h03m".
std::string format_elapsed(std::chrono::milliseconds elapsed);

// What blocks the waiter, per GPU: "GPU0 claimed by pid 311 (alice, python train.py) ·
// GPU1 3.1 GiB free < 8.0 GiB"; an instance by its device_label ("GPU 0 MIG 3g.40gb #1").
// GPUs outside the allocation or the --gpu list, and those MIG rules out, are left out.
std::string wait_blockers(const Machine& machine, const Decision& decision, const SelectionOptions& options);

// Where a waiter stands, for its waiting line: ", 2nd in line (GPU 0 reserved for you)";
// empty for the only waiter with nothing kept for it.
std::string queue_standing(const QueuePlace& place);

enum class Terminal { tty, not_tty };

// The waiting job as its line names it: the command, cut to a few words' width.
std::string job_name(const std::vector<std::string>& command);

class WaitReporter {
 public:
  // `columns`: the terminal's width (0: unknown, nothing is cut); `job`: job_name().
  WaitReporter(std::ostream& err, Terminal terminal, std::size_t columns, std::string job)
      : err_(err), terminal_(terminal), columns_(columns), job_(std::move(job)) {}
  // Reports the state after an attempt: "waiting 1m12s for 2 GPUs (job)<standing>:
  // <blockers>", on a terminal cut to its width; elsewhere a line only when it changed,
  // saying when ("waiting 12s at 14:03:27 for ...").
  void update(std::chrono::milliseconds elapsed, unsigned needed, const std::string& standing,
              const std::string& blockers, const std::string& time_of_day);
  // The place in line changed between attempts: shown at the next tick.
  void change_standing(const std::string& standing) { standing_ = standing; }
  // Rewrites the elapsed time on a TTY; nothing elsewhere.
  void tick(std::chrono::milliseconds elapsed);
  // Ends a rewritten line so that what follows starts on its own line.
  void finish();

 private:
  std::string line(std::chrono::milliseconds elapsed) const;
  std::ostream& err_;
  Terminal terminal_;
  std::size_t columns_ = 0;
  std::string job_;
  std::string time_of_day_;
  unsigned needed_ = 0;
  std::string standing_;
  std::string blockers_;
  bool reported_ = false;
  bool line_open_ = false;
};

}  // namespace wg
