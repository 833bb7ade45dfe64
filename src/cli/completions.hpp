#pragma once
// Shell completion scripts, written from the flag registry (cli/flags.hpp).

#include <string>

#include "core/result.hpp"

namespace wg {

// The completion script for `shell` (bash, zsh or fish): flags, their values (choices,
// files, profile names from the config files, GPU indices and model names read from the
// machine by the with-gpu being completed), then the command and its own arguments.
Result<std::string> completion_script(const std::string& shell);

}  // namespace wg
