#pragma once
// The real Launcher: setenv and execvp.

#include "core/launcher.hpp"

namespace wg {

class ExecLauncher : public Launcher {
 public:
  Error exec(const std::vector<std::string>& argv, const EnvChanges& env) override;
};

}  // namespace wg
