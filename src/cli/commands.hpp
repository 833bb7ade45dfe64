#pragma once
// The commands that show rather than launch: --status (and --status --watch), --dry-run
// and --print-env. Each writes its output and returns the exit status.

#include <functional>
#include <iosfwd>

#include "cli/app.hpp"
#include "cli/environment.hpp"
#include "cli/options.hpp"
#include "cli/phase_trace.hpp"
#include "cli/round.hpp"
#include "core/allocation.hpp"
#include "core/claims.hpp"
#include "core/queue.hpp"
#include "core/result.hpp"

namespace wg {

// What every command reads and writes.
struct CommandContext {
  const Options& options;
  const Environment& env;
  std::ostream& out;
  std::ostream& err;
};

// What --status reads besides the options: the machine through the flow, the stores the
// flow opened.
struct StatusInputs {
  std::function<Result<Machine>()> read_machine;  // the driver's view plus every claim holder
  Services& services;                             // the clock, process descriptions, the --watch screen
  const ClaimStore& claims;
  WaitQueue* queue;                               // the waiting line; none in tests of the flow
  Given given;
  PhaseTrace& trace;
};

// --status: the table (or JSON) of every GPU, the claims and the waiting line; with --watch,
// a frame every interval until the user quits or the reader goes away.
int show_status(const CommandContext& context, StatusInputs& inputs);

// --dry-run: the decision and what the command would be given, nothing claimed. Exits as
// the run would have: the command's problem first, then no GPU, then the lock directory.
// `command_problem` is null when the command could run.
int show_dry_run(const CommandContext& context, const Round& round, const ClaimsPlace& place,
                 const Error* command_problem);

// --print-env: `export` lines for eval "$(with-gpu --print-env ...)", nothing claimed.
int print_env(const CommandContext& context, const Round& round, const Given& given);

}  // namespace wg
