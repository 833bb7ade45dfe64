#pragma once
// The documented exit codes (README, --help). Once the command runs, its own status
// is what the caller sees.

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

}  // namespace wg
