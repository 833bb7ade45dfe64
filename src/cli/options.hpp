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
#include "core/user_policy.hpp"

namespace wg {

enum class Action { run, status, dry_run, print_env, print_text, init_lock_dir, install_kernel };
enum class Output { text, json };
enum class ColorWhen { automatic, always, never };  // --color

struct Options {
  Action action = Action::run;
  std::string text;  // for print_text: help or version

  SelectionOptions selection;
  std::optional<std::vector<GpuRef>> gpu_list;  // --gpu, resolved against the machine later
  bool wait = false;
  std::optional<std::chrono::milliseconds> timeout;
  std::chrono::milliseconds poll_interval{5000};  // --poll-interval
  std::chrono::milliseconds sample_window{kDefaultSampleWindowMs};  // utilization and power averages
  Output output = Output::text;
  bool quiet = false;
  std::optional<std::string> lock_dir;  // --lock-dir, WITH_GPU_LOCK_DIR or a config file
  std::optional<std::string> init_lock_dir;  // --init-lock-dir PATH (absolute); empty: the default
  ColorWhen color = ColorWhen::automatic;    // --color: auto (a TTY without NO_COLOR), always, never
  std::optional<std::chrono::milliseconds> watch;  // --status --watch [INTERVAL]: redraw every INTERVAL
  std::string kernel_name;                   // --install-kernel NAME
  std::vector<std::string> kernel_flags;     // the other flags, for the kernel's with-gpu
  IdFormat id_format = IdFormat::automatic;
  bool bind = false;           // --bind: pin the command to the chosen GPUs' CPUs and memory
  bool all_gpus = false;       // --min-gpus all: every GPU of the allocation (min = max)
  bool ignore_slurm = false;   // --ignore-slurm: a Slurm job given no GPUs may use the node's
  bool show_topology = false;  // --status --topology: the GPU-by-GPU matrix
  std::optional<UserPolicy> policy;  // [policy] of the system config
  std::vector<std::string> command;
};

// Parses a --max-power value into the selection options: watts ("250", "250W") or a
// percentage of the enforced power limit ("80%"). `name` starts error messages.
Result<Ok> parse_max_power(const std::string& text, const std::string& name, SelectionOptions& selection);

// Where settings come from besides the command line.
struct SettingSources {
  std::optional<std::string> config;        // WITH_GPU_CONFIG: a file that must exist
  std::optional<std::string> profile;       // WITH_GPU_PROFILE
  std::optional<std::string> lock_dir;      // WITH_GPU_LOCK_DIR
  std::string user_config;                  // $XDG_CONFIG_HOME/with-gpu/config.toml
  std::string system_config = "/etc/with-gpu/config.toml";  // WITH_GPU_SYSTEM_CONFIG overrides
  // A relative lock dir, from any layer, is made absolute against this directory
  // [default: the process's current directory, read when one is relative].
  std::optional<std::string> current_dir;
  // The lock directory used when no layer sets one, as --show-config shows it.
  std::string default_lock_dir = "/tmp/with-gpu";
};

// The user's default config path from XDG_CONFIG_HOME or HOME ("" when neither is set).
std::string user_config_path(const std::optional<std::string>& xdg_config_home, const std::optional<std::string>& home);

// Parses argv (argv[0] included) and merges it over the config files. Precedence,
// highest first: flags, WITH_GPU_LOCK_DIR, the profile, user [defaults], system
// [defaults], built-in. Usage errors name the flag, or the file, line and column.
Result<Options> parse_options(const std::vector<std::string>& args, const SettingSources& sources = {});


}  // namespace wg
