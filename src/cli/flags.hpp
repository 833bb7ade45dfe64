#pragma once
// Every flag, defined once: names, value, default, help, choices, config key and how it
// is applied. --help, the man page, the completions and the parser are made from it.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command_line.hpp"
#include "cli/options.hpp"
#include "core/result.hpp"

namespace wg {

// The sections of --help and the man page, in order.
enum class Group { selection, thresholds, topology, waiting, output, claims, configuration, general };

enum class Takes { nothing, value, optional_value };

// What a shell offers for the flag's value.
enum class Complete {
  nothing,      // free text
  choices,      // exactly the words in `choices`
  suggestions,  // the words in `choices`, among others that are valid
  file,
  directory,
  profile,      // [profiles.NAME] of the config files
  gpu,          // the machine's GPU indices
  gpu_model,    // the machine's GPU model names
};

// Applies a setting's value (from a flag or a config key). `name` starts any message:
// "--min-memory" or "config.toml:3:1: min_memory".
using Setter = Result<Ok> (*)(const std::string& value, const std::string& name, Options& options);

struct Flag {
  std::string_view name;            // "--min-memory"
  char short_name = 0;              // 'n' for -n; 0: none
  Takes takes = Takes::nothing;
  std::string_view value_name;      // "SIZE"
  Group group = Group::general;
  std::string_view help;            // one paragraph for --help, README and the man page
  std::string_view details;         // more for the man page only; may be empty
  std::string_view default_text;    // for people: "2048 MiB", "--min-gpus"; "" none
  std::string_view choices;         // space-separated words for Complete::choices/suggestions
  Complete complete = Complete::nothing;
  // A setting: its config key (the flag in snake_case), its built-in value in config form
  // as --show-config prints it, and how it is applied.
  std::string_view key;
  std::string_view built_in;
  Setter apply = nullptr;
  // Not a setting (or a setting given without its optional value): where it is recorded.
  std::optional<std::string> CommandLine::*record = nullptr;
};

struct GroupInfo {
  Group group;
  std::string_view title;  // "selection"
  std::string_view note;   // a paragraph after the group's flags; may be empty
};

struct EnvironmentVariable {
  std::string_view name;
  std::string_view help;
};

struct ExitStatus {
  std::string_view code;  // "2", "130, 143", "the command's"
  std::string_view meaning;
};

std::span<const Flag> all_flags();
std::span<const GroupInfo> all_groups();
std::span<const EnvironmentVariable> environment_variables();
std::span<const ExitStatus> exit_statuses();

const Flag* flag_named(std::string_view name);  // "--min-memory" or "-n"
const Flag* flag_for_key(std::string_view key);  // "min_memory"

// The flag's words as --help writes them: "-n, --dry-run", "--min-memory SIZE",
// "--watch [INTERVAL]".
std::string flag_synopsis(const Flag& flag);

// `choices` as words.
std::vector<std::string> choice_words(const Flag& flag);

}  // namespace wg
