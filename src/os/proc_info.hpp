#pragma once
// Who a process is, from /proc: for telling users who holds a GPU.

#include <optional>
#include <string>

#include "core/gpu.hpp"

namespace wg {

// The whole of a small /proc (or other) file, read with read(2): a process that exits
// while it is being read gives an empty result, never an exception.
std::optional<std::string> read_small_file(const std::string& path);

// The name of the process's real user (or its uid when it has no name). Empty when the
// process is gone or not visible from this pid namespace.
std::optional<std::string> process_user(int pid);

// True when the process is stopped (SIGSTOP, Ctrl-Z, a suspended Slurm job) or traced to a
// halt; false when it runs, is gone or cannot be seen.
bool process_stopped(int pid);

// True when `pid` is this process or one of its ancestors.
bool is_self_or_ancestor(int pid);

// A user's name, or the uid as a number when it has none.
std::string user_name(unsigned uid);

// "SLURM_JOB_ID.SLURM_STEP_ID" from the process's environment ("14.0", "14" without a
// step); empty when it has none or it cannot be read (another user's process).
std::optional<std::string> slurm_step_of(int pid);

// The command line, arguments joined by spaces. Empty when the process is gone.
std::optional<std::string> process_command(int pid);

// Fills user and command of every compute process NVML listed, for reports. A process
// in another pid namespace or already gone keeps them empty.
void describe_processes(Machine& machine);

}  // namespace wg
