#include "cli/flags.hpp"

#include <regex>

#include "core/text.hpp"
#include "core/units.hpp"

namespace wg {
namespace {

Result<Ok> bad(const std::string& name, const std::string& value, const std::string& what) {
  return usage_error(name + ": '" + value + "' " + what);
}

// Config files give booleans as true/false; a flag given is "true".
bool on(const std::string& value) { return value == "true"; }

// Sets `target` to the choice named `value`, or says which names there are.
template <class E>
Result<Ok> choose(const std::string& value, const std::string& name,
                  std::initializer_list<std::pair<const char*, E>> choices, E& target) {
  std::string names;
  for (const auto& [choice, meaning] : choices) {
    if (value == choice) {
      target = meaning;
      return Ok{};
    }
    names += (names.empty() ? "" : ", ") + std::string(choice);
  }
  return bad(name, value, "is not one of " + names);
}

Result<unsigned> gpu_count(const std::string& value, const std::string& name) {
  auto count = parse_unsigned(value);
  if (!count) return bad(name, value, "is not a whole number").error();
  if (*count == 0) return usage_error(name + " must be at least 1");
  return *count;
}

Result<Ok> set_min_gpus(const std::string& value, const std::string& name, Options& options) {
  if (value == "all") {
    options.all_gpus = true;  // resolved against the allocation (or the machine) later
    return Ok{};
  }
  auto count = gpu_count(value, name);
  if (!count) return count.error();
  options.selection.min_gpus = *count;
  return Ok{};
}

Result<Ok> set_max_gpus(const std::string& value, const std::string& name, Options& options) {
  auto count = gpu_count(value, name);
  if (!count) return count.error();
  options.selection.max_gpus = *count;
  return Ok{};
}

Result<Ok> set_gpu_type(const std::string& value, const std::string& name, Options& options) {
  if (value.empty()) return usage_error(name + " must not be empty");
  options.selection.gpu_type = value;
  return Ok{};
}

// "3g.40gb" or "1c.3g.40gb", as nvidia-smi names MIG profiles (mig_profile_name).
bool is_mig_profile(const std::string& value) {
  static const std::regex kProfile("([0-9]+c\\.)?[0-9]+g\\.[0-9]+gb", std::regex::icase);
  return std::regex_match(value, kProfile);
}

Result<Ok> set_mig_profile(const std::string& value, const std::string& name, Options& options) {
  if (!is_mig_profile(value)) return bad(name, value, "is not a MIG profile (e.g. 1g.10gb, 3g.40gb, 1c.3g.40gb)");
  options.selection.mig_profile = lowercase(value);
  return Ok{};
}

Result<Ok> set_lock_dir(const std::string& value, const std::string& name, Options& options) {
  if (value.empty()) return usage_error(name + " must not be empty");
  options.lock_dir = value;
  return Ok{};
}

Result<Ok> set_strict(const std::string& value, const std::string&, Options& options) {
  options.selection.type_fallback = on(value) ? TypeFallback::strict : TypeFallback::allowed;
  return Ok{};
}

Result<Ok> set_require_idle(const std::string& value, const std::string&, Options& options) {
  options.selection.idle = on(value) ? IdleRequirement::idle_only : IdleRequirement::any;
  return Ok{};
}

Result<Ok> set_share(const std::string& value, const std::string&, Options& options) {
  options.selection.claim_mode = on(value) ? ClaimMode::shared : ClaimMode::exclusive;
  return Ok{};
}

Result<Ok> set_wait(const std::string& value, const std::string&, Options& options) {
  options.wait = on(value);
  return Ok{};
}

Result<Ok> set_quiet(const std::string& value, const std::string&, Options& options) {
  options.quiet = on(value);
  return Ok{};
}

Result<Ok> set_bind(const std::string& value, const std::string&, Options& options) {
  options.bind = on(value);
  return Ok{};
}

Result<Ok> set_ignore_slurm(const std::string& value, const std::string&, Options& options) {
  options.ignore_slurm = on(value);
  return Ok{};
}

Result<Ok> set_min_memory(const std::string& value, const std::string& name, Options& options) {
  auto bytes = parse_memory_size(value);
  if (!bytes) return bad(name, value, "is not a size (e.g. 8000 for MiB, 8G, 1.5GiB, 500MB)");
  options.selection.min_free_bytes = *bytes;
  return Ok{};
}

Result<Ok> set_max_util(const std::string& value, const std::string& name, Options& options) {
  auto percent = parse_unsigned(value);
  if (!percent || *percent > 100) return bad(name, value, "is not a percentage from 0 to 100");
  options.selection.max_util_percent = *percent;
  return Ok{};
}

Result<Ok> set_max_temp(const std::string& value, const std::string& name, Options& options) {
  auto celsius = parse_unsigned(value);
  if (!celsius || *celsius > 200) return bad(name, value, "is not a temperature in degrees Celsius (e.g. 80)");
  options.selection.max_temp_c = *celsius;
  return Ok{};
}

Result<Ok> set_max_power(const std::string& value, const std::string& name, Options& options) {
  return parse_max_power(value, name, options.selection);
}

Result<Ok> set_sample_window(const std::string& value, const std::string& name, Options& options) {
  auto window = parse_duration(value);
  if (!window || window->count() < 100 || window->count() > 600'000) {
    return bad(name, value, "is not a duration from 100ms to 10m (e.g. 5s)");
  }
  options.sample_window = *window;
  options.selection.sample_window_ms = window->count();
  return Ok{};
}

Result<Ok> set_timeout(const std::string& value, const std::string& name, Options& options) {
  auto duration = parse_duration(value);
  if (!duration) return bad(name, value, "is not a duration (e.g. 30, 90s, 5m, 1h)");
  options.timeout = *duration;
  return Ok{};
}

Result<Ok> set_poll_interval(const std::string& value, const std::string& name, Options& options) {
  auto interval = parse_duration(value);
  if (!interval || interval->count() < 10) return bad(name, value, "is not a duration of at least 10ms (e.g. 500ms, 2s)");
  options.poll_interval = *interval;
  return Ok{};
}

Result<Ok> set_id_format(const std::string& value, const std::string& name, Options& options) {
  return choose(value, name, {{"auto", IdFormat::automatic}, {"index", IdFormat::index}, {"uuid", IdFormat::uuid}},
                options.id_format);
}

Result<Ok> set_topology(const std::string& value, const std::string& name, Options& options) {
  return choose(value, name, {{"prefer", TopologyUse::prefer}, {"ignore", TopologyUse::ignore}},
                options.selection.topology);
}

Result<Ok> set_numa(const std::string& value, const std::string& name, Options& options) {
  return choose(value, name, {{"prefer", Locality::prefer}, {"require", Locality::require}, {"ignore", Locality::ignore}},
                options.selection.numa);
}

// Flags that are settings have `key`, `built_in` and `apply`; the others `record`.
constexpr Flag kFlags[] = {
    // selection
    {.name = "--gpu", .takes = Takes::value, .value_name = "LIST", .group = Group::selection,
     .help = "use exactly these GPUs, in this order: NVML indices as nvidia-smi shows them, or (prefixes of) GPU- "
             "UUIDs, e.g. 0,2",
     .complete = Complete::gpu, .record = &CommandLine::gpu},
    {.name = "--min-gpus", .takes = Takes::value, .value_name = "N|all", .group = Group::selection,
     .help = "at least N GPUs; all: every GPU of the allocation (Slurm's, an inherited CUDA_VISIBLE_DEVICES), "
             "else every GPU this process may open",
     .default_text = "1", .choices = "1 2 4 8 all", .complete = Complete::suggestions, .key = "min_gpus",
     .built_in = "1", .apply = set_min_gpus},
    {.name = "--max-gpus", .takes = Takes::value, .value_name = "N", .group = Group::selection,
     .help = "at most N GPUs (so --min-gpus 2 alone means exactly 2)", .default_text = "--min-gpus",
     .key = "max_gpus", .built_in = "(= min_gpus)", .apply = set_max_gpus},
    {.name = "--gpu-type", .takes = Takes::value, .value_name = "TEXT", .group = Group::selection,
     .help = "prefer GPUs whose name contains TEXT (case-insensitive); others are used when no match is free, "
             "with a warning",
     .complete = Complete::gpu_model, .key = "gpu_type", .built_in = "(none)", .apply = set_gpu_type},
    {.name = "--strict", .group = Group::selection, .help = "with --gpu-type: never fall back to other models",
     .key = "strict", .built_in = "false", .apply = set_strict},
    {.name = "--mig-profile", .takes = Takes::value, .value_name = "PROFILE", .group = Group::selection,
     .help = "only MIG instances of this profile, as nvidia-smi names them (3g.40gb, 1c.3g.40gb); whole GPUs "
             "are not used",
     .choices = "1g.10gb 2g.20gb 3g.40gb 4g.40gb 7g.80gb 1g.5gb 2g.10gb 3g.20gb 7g.40gb",
     .complete = Complete::suggestions, .key = "mig_profile", .built_in = "(none)", .apply = set_mig_profile},
    // thresholds
    {.name = "--min-memory", .takes = Takes::value, .value_name = "SIZE", .group = Group::thresholds,
     .help = "free memory floor; a bare number is MiB, K/M/G/T and KiB/MiB/GiB are binary, KB/MB/GB decimal; "
             "0 disables",
     .default_text = "2048 MiB", .key = "min_memory", .built_in = "2048", .apply = set_min_memory},
    {.name = "--max-util", .takes = Takes::value, .value_name = "PCT", .group = Group::thresholds,
     .help = "utilization ceiling, 0-100, against the --sample-window mean", .key = "max_util",
     .built_in = "(none)", .apply = set_max_util},
    {.name = "--max-temp", .takes = Takes::value, .value_name = "C", .group = Group::thresholds,
     .help = "GPU core temperature ceiling in degrees Celsius",
     .details = "While waiting, a GPU that was hotter must stay below it for a whole --sample-window.",
     .key = "max_temp", .built_in = "(none)", .apply = set_max_temp},
    {.name = "--max-power", .takes = Takes::value, .value_name = "W|P%", .group = Group::thresholds,
     .help = "power draw ceiling in watts (250, 250W), or a percentage of the GPU's enforced power limit (80%), "
             "against the --sample-window mean",
     .key = "max_power", .built_in = "(none)", .apply = set_max_power},
    {.name = "--sample-window", .takes = Takes::value, .value_name = "DURATION", .group = Group::thresholds,
     .help = "average utilization and power over the driver's samples of the last DURATION (100ms to 10m; "
             "instantaneous where the driver keeps none)",
     .default_text = "5s", .key = "sample_window", .built_in = "5s", .apply = set_sample_window},
    {.name = "--require-idle", .group = Group::thresholds,
     .help = "only idle GPUs (no compute process, under 500 MiB used)", .key = "require_idle", .built_in = "false",
     .apply = set_require_idle},
    // topology
    {.name = "--topology", .takes = Takes::optional_value, .value_name = "MODE", .group = Group::topology,
     .help = "prefer: choose several GPUs as the best-connected set (NVLink links, then PCIe path, then NUMA "
             "node; ties to free memory) among GPUs of one tier (idle before busy); ignore: the ranking alone "
             "(idle first, then most free memory); with --status and no MODE: the GPU-by-GPU matrix, as "
             "nvidia-smi topo -m",
     .details = "The matrix marks NV# for # NVLinks, PIX, PXB, PHB, NODE and SYS for PCIe paths, and ? where the "
                "driver does not say.",
     .default_text = "prefer", .choices = "prefer ignore", .complete = Complete::choices, .key = "topology",
     .built_in = "prefer", .apply = set_topology, .record = &CommandLine::topology_matrix},
    {.name = "--numa", .takes = Takes::value, .value_name = "MODE", .group = Group::topology,
     .help = "prefer: when with-gpu may run only on some CPUs (taskset, numactl, Slurm, cgroup cpusets), GPUs "
             "local to them go first; require: only those; ignore: neither",
     .default_text = "prefer", .choices = "prefer require ignore", .complete = Complete::choices, .key = "numa",
     .built_in = "prefer", .apply = set_numa},
    {.name = "--bind", .group = Group::topology,
     .help = "run the command on the CPUs local to its GPUs (within those it may use), memory preferred on their "
             "NUMA nodes (needs libnuma1)",
     .key = "bind", .built_in = "false", .apply = set_bind},
    // waiting
    {.name = "--wait", .group = Group::waiting,
     .help = "wait until enough GPUs pass, in arrival order (a GPU an older waiter can use is kept for it); "
             "starts within milliseconds of a claim being released, re-reads the driver every --poll-interval",
     .key = "wait", .built_in = "false", .apply = set_wait},
    {.name = "--timeout", .takes = Takes::value, .value_name = "DURATION", .group = Group::waiting,
     .help = "with --wait: give up after DURATION (30, 90s, 5m, 1h; a bare number is seconds)",
     .default_text = "never", .key = "timeout", .built_in = "(never)", .apply = set_timeout},
    {.name = "--poll-interval", .takes = Takes::value, .value_name = "DURATION", .group = Group::waiting,
     .help = "with --wait: re-read the driver this often (500ms, 2s); released claims wake a waiter at once "
             "regardless",
     .default_text = "5s", .key = "poll_interval", .built_in = "5s", .apply = set_poll_interval},
    // output
    {.name = "--status", .group = Group::output,
     .help = "show every GPU, its processes, claims and the waiting line, fitted to the terminal, and exit; "
             "--gpu and --gpu-type pick the rows, thresholds colour the readings that fail them",
     .record = &CommandLine::status},
    {.name = "--watch", .takes = Takes::optional_value, .value_name = "INTERVAL", .group = Group::output,
     .help = "with --status: redraw in place every INTERVAL; q or Ctrl-C quits", .default_text = "1s",
     .record = &CommandLine::watch},
    {.name = "--color", .takes = Takes::value, .value_name = "WHEN", .group = Group::output,
     .help = "colour --status: auto (a terminal, unless NO_COLOR is set), always, never; readings failing the "
             "thresholds in force are red",
     .default_text = "auto", .choices = "auto always never", .complete = Complete::choices,
     .record = &CommandLine::color},
    {.name = "--json", .group = Group::output,
     .help = "with --status or --dry-run: print one JSON object (docs/json.md)", .record = &CommandLine::json},
    {.name = "--dry-run", .short_name = 'n', .group = Group::output,
     .help = "show the decision and every GPU's verdict; claim and run nothing", .record = &CommandLine::dry_run},
    {.name = "--print-env", .group = Group::output,
     .help = "print export CUDA_VISIBLE_DEVICES=... lines for eval \"$(with-gpu --print-env ...)\"; claims "
             "nothing, so concurrent launches may pick the same GPU",
     .record = &CommandLine::print_env},
    {.name = "--quiet", .short_name = 'q', .group = Group::output, .help = "no summary or warnings on stderr",
     .key = "quiet", .built_in = "false", .apply = set_quiet},
    {.name = "--id-format", .takes = Takes::value, .value_name = "FORMAT", .group = Group::output,
     .help = "how CUDA_VISIBLE_DEVICES names GPUs: auto, index (PCI bus order) or uuid", .default_text = "auto",
     .choices = "auto index uuid", .complete = Complete::choices, .key = "id_format", .built_in = "auto",
     .apply = set_id_format},
    {.name = "--install-kernel", .takes = Takes::value, .value_name = "NAME", .group = Group::output,
     .help = "write a Jupyter kernel NAME whose kernels start through with-gpu with the other flags given (each "
             "kernel claims its own GPU until it shuts down), then exit",
     .record = &CommandLine::install_kernel},
    {.name = "--completions", .takes = Takes::value, .value_name = "SHELL", .group = Group::output,
     .help = "print the completion script for bash, zsh or fish, and exit", .choices = "bash zsh fish",
     .complete = Complete::choices, .record = &CommandLine::completions},
    {.name = "--man-page", .group = Group::output, .help = "print this manual as a man page (roff), and exit",
     .record = &CommandLine::man_page},
    // claims
    {.name = "--share", .group = Group::claims,
     .help = "take a shared claim: other --share jobs may use the GPU at the same time, exclusive jobs may not "
             "(small inference jobs, notebooks)",
     .key = "share", .built_in = "false", .apply = set_share},
    {.name = "--ignore-slurm", .group = Group::claims,
     .help = "inside a Slurm job that was given no GPUs, choose among every GPU of the node instead of refusing "
             "(exit 4)",
     .key = "ignore_slurm", .built_in = "false", .apply = set_ignore_slurm},
    {.name = "--lock-dir", .takes = Takes::value, .value_name = "PATH", .group = Group::claims,
     .help = "claims directory; a relative path is taken from the current directory",
     .default_text = "$WITH_GPU_LOCK_DIR, else /run/with-gpu when root made it, else /tmp/with-gpu",
     .complete = Complete::directory, .key = "lock_dir", .built_in = "/tmp/with-gpu", .apply = set_lock_dir},
    {.name = "--init-lock-dir", .takes = Takes::optional_value, .value_name = "PATH", .group = Group::claims,
     .help = "as root: make PATH a hardened claims directory, root's, with a lock file for every GPU (users can "
             "claim but not delete or plant lock files; docs/security.md), then exit",
     .default_text = "/run/with-gpu", .complete = Complete::directory, .record = &CommandLine::init_lock_dir},
    // configuration
    {.name = "--profile", .takes = Takes::value, .value_name = "NAME", .group = Group::configuration,
     .help = "apply [profiles.NAME] from the config files (env WITH_GPU_PROFILE)", .complete = Complete::profile,
     .record = &CommandLine::profile},
    {.name = "--config", .takes = Takes::value, .value_name = "PATH", .group = Group::configuration,
     .help = "read this config file instead of the user's; it must exist (env WITH_GPU_CONFIG)",
     .complete = Complete::file, .record = &CommandLine::config},
    {.name = "--show-config", .group = Group::configuration,
     .help = "print the effective settings and where each comes from, and the admin's [policy]",
     .record = &CommandLine::show_config},
    // general
    {.name = "--version", .short_name = 'V', .help = "print the version", .record = &CommandLine::version},
    {.name = "--help", .short_name = 'h', .help = "print this help", .record = &CommandLine::help},
};

constexpr GroupInfo kGroups[] = {
    {Group::selection, "selection", ""},
    {Group::thresholds, "thresholds", "A GPU that does not report a reading a threshold needs is rejected by it."},
    {Group::topology, "topology", ""},
    {Group::waiting, "waiting", ""},
    {Group::output, "output", ""},
    {Group::claims, "claims", ""},
    {Group::configuration, "configuration",
     "Config files (TOML): /etc/with-gpu/config.toml, then $XDG_CONFIG_HOME/with-gpu/config.toml "
     "(~/.config/with-gpu/config.toml). [defaults] always applies; keys are the long flags in snake_case with the "
     "flags' values (min_memory = \"40G\", max_util = 50, wait = true). The system file's [policy] "
     "(max_gpus_per_user = 2) binds every user: a launch over it waits with --wait, else exits 4. Precedence: "
     "flags, WITH_GPU_LOCK_DIR, profile, user [defaults], system [defaults], built-in."},
    {Group::general, "other", ""},
};

constexpr EnvironmentVariable kEnvironment[] = {
    {"WITH_GPU_LOCK_DIR", "claims directory when --lock-dir is not given"},
    {"WITH_GPU_CONFIG", "the config file to read instead of the user's (as --config)"},
    {"WITH_GPU_PROFILE", "the profile to apply (as --profile)"},
    {"WITH_GPU_SYSTEM_CONFIG", "the system config file [default: /etc/with-gpu/config.toml]"},
    {"WITH_GPU_NVML_LIBRARY", "path of libnvidia-ml.so.1 [default: found by the dynamic loader]"},
    {"CUDA_VISIBLE_DEVICES", "if set, only the GPUs it lists are candidates"},
    {"NO_COLOR", "no colours, even on a terminal"},
    {"COLUMNS", "the width --status fits [default: the terminal's]"},
};

constexpr ExitStatus kExitStatuses[] = {
    {"2", "usage error: a bad flag, value, config file or CUDA_VISIBLE_DEVICES entry"},
    {"3", "the NVIDIA driver or NVML is unavailable"},
    {"4", "no suitable GPU (every rejection is listed)"},
    {"5", "the claims directory cannot be used"},
    {"124", "--wait --timeout ran out"},
    {"126", "the command exists but cannot be executed"},
    {"127", "the command was not found"},
    {"130, 143", "interrupted by SIGINT or SIGTERM while waiting"},
};

}  // namespace

std::span<const Flag> all_flags() { return kFlags; }
std::span<const GroupInfo> all_groups() { return kGroups; }
std::span<const EnvironmentVariable> environment_variables() { return kEnvironment; }
std::span<const ExitStatus> exit_statuses() { return kExitStatuses; }

const Flag* flag_named(std::string_view name) {
  for (const auto& flag : kFlags) {
    if (name == flag.name) return &flag;
    if (flag.short_name && name.size() == 2 && name[0] == '-' && name[1] == flag.short_name) return &flag;
  }
  return nullptr;
}

const Flag* flag_for_key(std::string_view key) {
  for (const auto& flag : kFlags) {
    if (!flag.key.empty() && key == flag.key) return &flag;
  }
  return nullptr;
}

std::string flag_synopsis(const Flag& flag) {
  std::string words = flag.short_name ? std::string("-") + flag.short_name + ", " : "";
  words += flag.name;
  if (flag.takes == Takes::value) words += " " + std::string(flag.value_name);
  if (flag.takes == Takes::optional_value) words += " [" + std::string(flag.value_name) + "]";
  return words;
}

std::vector<std::string> choice_words(const Flag& flag) {
  std::vector<std::string> words;
  std::string_view rest = flag.choices;
  while (!rest.empty()) {
    auto space = rest.find(' ');
    words.emplace_back(rest.substr(0, space));
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  return words;
}

Result<Ok> parse_max_power(const std::string& text, const std::string& name, SelectionOptions& selection) {
  std::string number = text;
  bool percent = !number.empty() && number.back() == '%';
  if (percent || (!number.empty() && (number.back() == 'W' || number.back() == 'w'))) number.pop_back();
  auto value = parse_decimal(number);
  if (!value || *value <= 0) {
    return usage_error(name + ": '" + text + "' is not watts or a percentage of the power limit (e.g. 250, 250W, 80%)");
  }
  if (percent && *value > 100) return usage_error(name + ": '" + text + "' is more than 100% of the power limit");
  selection.max_power_w.reset();
  selection.max_power_fraction.reset();
  if (percent) {
    selection.max_power_fraction = *value / 100.0;
  } else {
    selection.max_power_w = *value;
  }
  return Ok{};
}

}  // namespace wg
