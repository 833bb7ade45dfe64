#pragma once
// Who a process is, from /proc: for telling users who holds a GPU.

#include <optional>
#include <string>

namespace wg {

// The name of the process's real user (or its uid when it has no name). Empty when the
// process is gone or not visible from this pid namespace.
std::optional<std::string> process_user(int pid);

// The command line, arguments joined by spaces. Empty when the process is gone.
std::optional<std::string> process_command(int pid);

}  // namespace wg
