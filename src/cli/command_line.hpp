#pragma once
// The command line as given, before the config files are merged in. Internal to cli/.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wg {

// Settings by config key, and every other flag as given: present or not, with its value
// ("" for a flag without one).
struct CommandLine {
  std::map<std::string, std::string> settings;
  std::optional<std::string> gpu, config, profile;
  std::optional<std::string> status, json, dry_run, print_env, show_config, version, help;
  std::optional<std::string> topology_matrix;  // --topology without a value, with --status
  std::optional<std::string> init_lock_dir;    // --init-lock-dir [PATH]: "" without PATH
  std::optional<std::string> install_kernel;   // --install-kernel NAME
  std::optional<std::string> color;            // --color WHEN
  std::optional<std::string> watch;            // --watch [INTERVAL]: "" without INTERVAL
  std::optional<std::string> completions;      // --completions SHELL
  std::optional<std::string> man_page;         // --man-page
  std::vector<std::string> args;               // as given, for the kernel's own with-gpu
  std::vector<std::string> rest;               // the command, or an unknown word
};

}  // namespace wg
