#pragma once
// Replacing with-gpu by the user's command.

#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace wg {

using EnvChanges = std::vector<std::pair<std::string, std::string>>;

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Sets `env` and replaces this process with `argv` (PATH lookup). Returns only on
  // failure: command_not_found or command_not_executable with a message.
  virtual Error exec(const std::vector<std::string>& argv, const EnvChanges& env) = 0;
  // Finds `command` as exec will, before any GPU is chosen or waited for: the file that
  // would run, or command_not_found / command_not_executable with exec's message.
  virtual Result<std::string> resolve(const std::string& command) const = 0;
};

}  // namespace wg
