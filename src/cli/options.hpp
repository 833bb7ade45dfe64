#pragma once
// The command line, parsed and checked. Only this module and its .cpp know CLI11.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/gpu_list.hpp"
#include "core/identity.hpp"
#include "core/result.hpp"
#include "core/selector.hpp"

namespace wg {

enum class Action { run, status, dry_run, print_env, print_text };
enum class Output { text, json };

struct Options {
  Action action = Action::run;
  std::string text;  // for print_text: help or version

  SelectionOptions selection;
  std::optional<std::vector<GpuRef>> gpu_list;  // --gpu, resolved against the machine later
  bool wait = false;
  std::optional<std::chrono::milliseconds> timeout;
  std::chrono::milliseconds poll_interval{5000};
  std::chrono::milliseconds sample_window{5000};  // utilization and power averages
  Output output = Output::text;
  bool quiet = false;
  std::optional<std::string> lock_dir;  // --lock-dir; the environment is the fallback
  IdFormat id_format = IdFormat::automatic;
  std::vector<std::string> command;
};

// Parses a --max-power value into the selection options: watts ("250", "250W") or a
// percentage of the enforced power limit ("80%").
Result<Ok> parse_max_power(const std::string& text, SelectionOptions& selection);

// Parses argv (argv[0] included). Usage errors name the flag and, for unknown
// options, suggest the nearest known one.
Result<Options> parse_options(const std::vector<std::string>& args);

// The --help text.
std::string help_text();

}  // namespace wg
