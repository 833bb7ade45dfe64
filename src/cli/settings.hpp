#pragma once
// Config layering: the config files read and checked, merged with the command line in
// precedence order, applied to Options, and shown by --show-config. Internal to cli/.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_line.hpp"
#include "cli/options.hpp"
#include "config/config_file.hpp"
#include "core/result.hpp"

namespace wg {

// A setting's value with where it came from, for merging and --show-config.
struct Setting {
  std::string value;
  std::string origin;  // "flag", "profile llm in PATH:LINE:COL", ...
  std::string name;    // what messages about it start with
  int rank = 0;        // precedence: higher wins
};
using Settings = std::map<std::string, Setting>;  // by config key

// The config files in force: the system file, then the user's (or the one named).
struct ConfigFiles {
  std::optional<ConfigFile> system;
  std::optional<ConfigFile> user;
};

// Reads the files and checks every value in them by the flags' rules, even one a flag
// overrides: a broken file is reported the first time it is read, not when it matters.
Result<ConfigFiles> read_config_files(const CommandLine& line, const SettingSources& sources);

// [policy] of the system file into `options`; a user's file may not set it.
Result<Ok> read_policy(const ConfigFiles& files, const SettingSources& sources, Options& options);

// Every setting set somewhere, with the layer it comes from; a relative lock dir made
// absolute against the current directory.
Result<Settings> merge(const CommandLine& line, const ConfigFiles& files, const SettingSources& sources);

// Applies the merged settings to `options` through the flags' setters.
Result<Ok> apply_settings(const Settings& merged, Options& options);

// --show-config: every setting, its value and where it comes from, then the policy.
std::string show_config(const Settings& merged, const std::string& default_lock_dir,
                        const std::vector<ConfigEntry>& policy);

}  // namespace wg
