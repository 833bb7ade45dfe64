#pragma once
// The real Launcher: setenv and execvp, and the PATH search that execvp makes.

#include <optional>
#include <string>

#include "core/launcher.hpp"

namespace wg {

// `command` resolved as execvp resolves it: a name with a '/' is that file; any other
// name is the first executable file of that name in the colon-separated `path`, where an
// empty entry is the current directory (unset: execvp's default, /bin:/usr/bin). Not
// found is command_not_found; a file exec would refuse (not executable, a directory, a
// script whose #! interpreter is missing) is command_not_executable, saying which.
Result<std::string> resolve_command(const std::string& command, const std::optional<std::string>& path);

class ExecLauncher : public Launcher {
 public:
  Error exec(const std::vector<std::string>& argv, const EnvChanges& env) override;
  // resolve_command with this process's PATH.
  Result<std::string> resolve(const std::string& command) const override;
};

}  // namespace wg
