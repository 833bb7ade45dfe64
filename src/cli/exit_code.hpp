#pragma once
// The documented exit codes (README, --help), and the one place where an error becomes
// `with-gpu: error: ...` and one of them. Once the command runs, its own status is what
// the caller sees.

#include <iosfwd>

#include "core/result.hpp"

namespace wg {

enum class ExitCode : int {
  ok = 0,
  internal = 1,
  usage = 2,
  nvml_unavailable = 3,
  no_suitable_gpu = 4,
  lock_dir = 5,
  timed_out = 124,
  interrupted = 130,  // 128 + SIGINT
  terminated = 143,   // 128 + SIGTERM
  not_executable = 126,
  not_found = 127,
};

// The exit code an error of `kind` ends the run with.
ExitCode exit_code_for(ErrorKind kind);

// Writes "with-gpu: error: MESSAGE" and the error's details to `err`; returns the exit status.
int report(const Error& error, std::ostream& err);

}  // namespace wg
