#include "os/launcher.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace wg {

Error ExecLauncher::exec(const std::vector<std::string>& argv, const EnvChanges& env) {
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  int error = errno;
  if (error == ENOENT || error == ENOTDIR) {
    return Error{ErrorKind::command_not_found,
                 "command not found: " + argv[0] + " (check the name and PATH)", {}};
  }
  return Error{ErrorKind::command_not_executable,
               "cannot execute " + argv[0] + ": " + std::strerror(error) + " (check its permissions and format)", {}};
}

}  // namespace wg
