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

enum class Action { run, status, dry_run, print_text };
enum class Output { text, json };

struct Options {
  Action action = Action::run;
  std::string text;  // for print_text: help or version

  SelectionOptions selection;
  std::optional<std::vector<GpuRef>> gpu_list;  // --gpu, resolved against the machine later
  bool wait = false;
  std::optional<std::chrono::milliseconds> timeout;
  std::chrono::milliseconds poll_interval{5000};
  Output output = Output::text;
  bool quiet = false;
  std::optional<std::string> lock_dir;  // --lock-dir; the environment is the fallback
  IdFormat id_format = IdFormat::automatic;
  std::vector<std::string> command;
};

// Parses argv (argv[0] included). Usage errors name the flag and, for unknown
// options, suggest the nearest known one.
Result<Options> parse_options(const std::vector<std::string>& args);

// The --help text.
std::string help_text();

}  // namespace wg
