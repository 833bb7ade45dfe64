#include "cli/options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "cli/version.hpp"
#include "config/config_file.hpp"
#include "core/nearest.hpp"
#include "core/units.hpp"

namespace wg {
namespace {

// What a setting's value is, which decides how it is parsed and checked.
enum class Kind { flag, count, size, percent, celsius, power, window, duration, poll, text, id_format, topology, numa };

// A setting that both a flag and a config key can give: one table, one parser, so a
// value means the same in both places and is checked by the same words.
struct Spec {
  const char* key;   // config key, the flag in snake_case
  const char* flag;  // long flag
  Kind kind;
};

constexpr Spec kSpecs[] = {
    {"min_gpus", "--min-gpus", Kind::count},         {"max_gpus", "--max-gpus", Kind::count},
    {"gpu_type", "--gpu-type", Kind::text},          {"strict", "--strict", Kind::flag},
    {"min_memory", "--min-memory", Kind::size},      {"max_util", "--max-util", Kind::percent},
    {"max_temp", "--max-temp", Kind::celsius},       {"max_power", "--max-power", Kind::power},
    {"sample_window", "--sample-window", Kind::window}, {"require_idle", "--require-idle", Kind::flag},
    {"wait", "--wait", Kind::flag},                  {"timeout", "--timeout", Kind::duration},
    {"poll_interval", "--poll-interval", Kind::poll}, {"quiet", "--quiet", Kind::flag},
    {"id_format", "--id-format", Kind::id_format},   {"share", "--share", Kind::flag},
    {"lock_dir", "--lock-dir", Kind::text},          {"topology", "--topology", Kind::topology},
    {"numa", "--numa", Kind::numa},                  {"bind", "--bind", Kind::flag},
    {"ignore_slurm", "--ignore-slurm", Kind::flag},
};

// Built-in values, as --show-config prints them.
const std::map<std::string, std::string> kBuiltIn = {
    {"min_gpus", "1"},         {"max_gpus", "(= min_gpus)"}, {"gpu_type", "(none)"},    {"strict", "false"},
    {"min_memory", "2048"},    {"max_util", "(none)"},      {"max_temp", "(none)"},    {"max_power", "(none)"},
    {"sample_window", "5s"},   {"require_idle", "false"},   {"wait", "false"},         {"timeout", "(never)"},
    {"poll_interval", "5s"},   {"quiet", "false"},          {"id_format", "auto"},     {"share", "false"},
    {"lock_dir", "/tmp/with-gpu"}, {"topology", "prefer"},   {"numa", "prefer"},        {"bind", "false"},
    {"ignore_slurm", "false"},
};

// Flags that are not settings (they act, or say where settings come from).
const std::vector<std::string> kOtherFlags = {"--gpu",      "--status",  "--json",   "--dry-run", "--print-env",
                                              "--version",  "--help",    "--config", "--profile", "--show-config",
                                              "--init-lock-dir", "--install-kernel", "--color", "--watch"};

bool is_true(const std::string& value) { return value == "true"; }

// Sets `target` to the choice named `value`, or says which names there are.
template <class E, class Bad>
Result<Ok> choose(const std::string& value, std::initializer_list<std::pair<const char*, E>> choices, E& target,
                  const Bad& bad) {
  std::string names;
  for (const auto& [choice, meaning] : choices) {
    if (value == choice) {
      target = meaning;
      return Ok{};
    }
    names += (names.empty() ? "" : ", ") + std::string(choice);
  }
  return bad("is not one of " + names);
}

// Applies one value. `name` starts every message: "--min-memory" for a flag,
// "config.toml:3:1: min_memory" for a config key.
Result<Ok> apply(const Spec& spec, const std::string& value, const std::string& name, Options& options) {
  SelectionOptions& selection = options.selection;
  const std::string key = spec.key;
  auto bad = [&](const std::string& what) { return usage_error(name + ": '" + value + "' " + what); };
  switch (spec.kind) {
    case Kind::flag: {
      bool on = is_true(value);
      if (key == "strict") selection.type_fallback = on ? TypeFallback::strict : TypeFallback::allowed;
      if (key == "require_idle") selection.idle = on ? IdleRequirement::idle_only : IdleRequirement::any;
      if (key == "wait") options.wait = on;
      if (key == "quiet") options.quiet = on;
      if (key == "share") selection.claim_mode = on ? ClaimMode::shared : ClaimMode::exclusive;
      if (key == "bind") options.bind = on;
      if (key == "ignore_slurm") options.ignore_slurm = on;
      return Ok{};
    }
    case Kind::count: {
      if (value == "all" && key == "min_gpus") {
        options.all_gpus = true;  // resolved against the allocation (or the machine) later
        return Ok{};
      }
      auto count = parse_unsigned(value);
      if (!count) return bad("is not a whole number");
      if (*count == 0) return usage_error(name + " must be at least 1");
      (key == "min_gpus" ? selection.min_gpus : selection.max_gpus) = *count;
      return Ok{};
    }
    case Kind::size: {
      auto bytes = parse_memory_size(value);
      if (!bytes) return bad("is not a size (e.g. 8000 for MiB, 8G, 1.5GiB, 500MB)");
      selection.min_free_bytes = *bytes;
      return Ok{};
    }
    case Kind::percent: {
      auto percent = parse_unsigned(value);
      if (!percent || *percent > 100) return bad("is not a percentage from 0 to 100");
      selection.max_util_percent = *percent;
      return Ok{};
    }
    case Kind::celsius: {
      auto celsius = parse_unsigned(value);
      if (!celsius || *celsius > 200) return bad("is not a temperature in degrees Celsius (e.g. 80)");
      selection.max_temp_c = *celsius;
      return Ok{};
    }
    case Kind::power: return parse_max_power(value, name, selection);
    case Kind::window: {
      auto window = parse_duration(value);
      if (!window || window->count() < 100 || window->count() > 600'000) {
        return bad("is not a duration from 100ms to 10m (e.g. 5s)");
      }
      options.sample_window = *window;
      selection.sample_window_ms = window->count();
      return Ok{};
    }
    case Kind::duration: {
      auto duration = parse_duration(value);
      if (!duration) return bad("is not a duration (e.g. 30, 90s, 5m, 1h)");
      options.timeout = *duration;
      return Ok{};
    }
    case Kind::poll: {
      auto interval = parse_duration(value);
      if (!interval || interval->count() < 10) return bad("is not a duration of at least 10ms (e.g. 500ms, 2s)");
      options.poll_interval = *interval;
      return Ok{};
    }
    case Kind::text:
      if (value.empty()) return usage_error(name + " must not be empty");
      (key == "gpu_type" ? selection.gpu_type : options.lock_dir) = value;
      return Ok{};
    case Kind::id_format:
      return choose(value, {{"auto", IdFormat::automatic}, {"index", IdFormat::index}, {"uuid", IdFormat::uuid}},
                    options.id_format, bad);
    case Kind::topology:
      return choose(value, {{"prefer", TopologyUse::prefer}, {"ignore", TopologyUse::ignore}}, selection.topology, bad);
    case Kind::numa:
      return choose(value, {{"prefer", Locality::prefer}, {"require", Locality::require}, {"ignore", Locality::ignore}},
                    selection.numa, bad);
  }
  return Ok{};
}

const Spec* spec_for_key(const std::string& key) {
  for (const auto& spec : kSpecs) {
    if (key == spec.key) return &spec;
  }
  return nullptr;
}

const Spec* spec_for_flag(const std::string& flag) {
  for (const auto& spec : kSpecs) {
    if (flag == spec.flag) return &spec;
  }
  return nullptr;
}

// A setting's value with where it came from, for merging and --show-config.
struct Setting {
  std::string value;
  std::string origin;  // "flag", "profile llm in PATH:LINE:COL", ...
  std::string name;    // what messages about it start with
  int rank = 0;        // precedence: higher wins
};

// Raw command line: settings by key, plus the flags that are not settings.
struct CommandLine {
  std::map<std::string, std::string> settings;
  std::string gpu, config, profile;
  bool status = false, json = false, dry_run = false, print_env = false, version = false, help = false;
  bool show_config = false;
  bool show_topology = false;  // --topology without a value: the matrix, with --status
  std::optional<std::string> init_lock_dir;  // --init-lock-dir [PATH]: "" without PATH
  std::optional<std::string> install_kernel;  // --install-kernel NAME
  std::string color;                          // --color WHEN
  std::optional<std::string> watch;           // --watch [INTERVAL]: "" without INTERVAL
  std::vector<std::string> args;              // as given, for the kernel's own with-gpu
  std::vector<std::string> rest;
};

// Flags of the tools people come from (Slurm, nvisel, gpustat, CUDA_VISIBLE_DEVICES
// habits), with ours and what to say. A spelling guess would send `--gpus 2` to --gpu,
// which pins GPU 2 rather than asking for two.
struct ForeignFlag {
  const char* name;
  const char* ours;
  const char* why;
};

constexpr ForeignFlag kForeignFlags[] = {
    {"--gpus", "--min-gpus", "with-gpu's --gpu picks GPUs by index"},
    {"-g", "--min-gpus", "with-gpu's --gpu picks GPUs by index"},
    {"--num-gpus", "--min-gpus", ""},
    {"--ngpus", "--min-gpus", ""},
    {"--count", "--min-gpus", ""},
    {"--gres", "--min-gpus", "with --gres=gpu:N, Slurm already sets CUDA_VISIBLE_DEVICES and with-gpu stays inside it"},
    {"--min-free-memory", "--min-memory", ""},
    {"--free-memory", "--min-memory", ""},
    {"--max-gpu-utilization", "--max-util", ""},
    {"--max-utilization", "--max-util", ""},
    {"--max-temperature", "--max-temp", ""},
    {"--device", "--gpu", ""},
    {"--devices", "--gpu", ""},
    {"--shared", "--share", ""},
};

Error unknown_option(const std::string& given) {
  std::string name = given.substr(0, given.find('='));
  if (name.size() > 2 && name.rfind("-g", 0) == 0 && name.find_first_not_of("0123456789", 2) == std::string::npos) {
    name = "-g";  // -g2: a count glued to the flag
  }
  for (const auto& foreign : kForeignFlags) {
    if (name != foreign.name) continue;
    return usage_error("unknown option '" + name + "' (did you mean '" + foreign.ours + "'?" +
                       (*foreign.why ? std::string(" ") + foreign.why : std::string()) + ")");
  }
  std::vector<std::string> known = kOtherFlags;
  for (const auto& spec : kSpecs) known.push_back(spec.flag);
  auto guess = nearest(name, known);
  std::string message = "unknown option '" + name + "'";
  message += guess ? " (did you mean '" + *guess + "'?)" : "; see with-gpu --help";
  return usage_error(message);
}

// The short flags; none takes a value.
constexpr const char* kShortFlags = "nqVh";

bool is_known_option(const std::string& name) {
  return spec_for_flag(name) || std::find(kOtherFlags.begin(), kOtherFlags.end(), name) != kOtherFlags.end();
}

// Options whose value is required: every setting but the flags and --topology (whose
// value is optional), and --gpu, --config, --profile.
bool needs_value(const std::string& name) {
  if (name == "--gpu" || name == "--config" || name == "--profile" || name == "--install-kernel" || name == "--color") {
    return true;
  }
  const Spec* spec = spec_for_flag(name);
  return spec && spec->kind != Kind::flag && spec->kind != Kind::topology;
}

// A word that cannot be a value: anything starting with "--" ("--" itself included),
// and our short flags, alone or grouped ("-n", "-nq"). "-5" stays a value.
bool is_option_word(const std::string& word) {
  if (word.rfind("--", 0) == 0) return true;
  return word.size() > 1 && word[0] == '-' && word.find_first_not_of(kShortFlags, 1) == std::string::npos;
}

// CLI11 hands a value-taking option the next word even when that is an option, so
// `--lock-dir --dry-run CMD` made a directory named --dry-run and ran CMD. Walks the
// options as CLI11 will: they end at "--", at the command, or at an unknown word.
// `--lock-dir=--odd` still gives that value, on purpose.
Result<Ok> check_values_present(const std::vector<std::string>& args) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--" || word.size() < 2 || word[0] != '-') return Ok{};
    auto equals = word.find('=');
    std::string name = word.substr(0, equals);
    bool inline_value = equals != std::string::npos && equals + 1 < word.size();  // CLI11 reads "--gpu=" as "--gpu"
    if (name.rfind("--", 0) != 0) {
      if (word.find_first_not_of(kShortFlags, 1) != std::string::npos) return Ok{};
      continue;
    }
    if (!is_known_option(name)) return Ok{};
    if (inline_value) continue;
    bool has_next = i + 1 < args.size();
    bool optional_value = name == "--topology" || name == "--init-lock-dir" || name == "--watch";
    if (optional_value && has_next && !is_option_word(args[i + 1])) ++i;
    if (!needs_value(name)) continue;
    if (!has_next) return usage_error(name + " needs a value");
    const std::string& next = args[++i];
    if (next == "--") return usage_error(name + " needs a value (got '--')");
    if (is_option_word(next)) return usage_error(name + " needs a value (got the option '" + next + "')");
  }
  return Ok{};
}

// Options outside the settings table whose empty value would otherwise mean "not given".
Result<Ok> check_not_empty(const CLI::App& app, const CommandLine& line) {
  if (app.count("--gpu") > 0 && line.gpu.empty()) return usage_error("--gpu needs at least one GPU index or UUID");
  if (app.count("--config") > 0 && line.config.empty()) return usage_error("--config must not be empty");
  if (app.count("--profile") > 0 && line.profile.empty()) return usage_error("--profile must not be empty");
  return Ok{};
}

Result<CommandLine> read_command_line(const std::vector<std::string>& args) {
  CLI::App app("with-gpu", "with-gpu");
  app.set_help_flag();
  app.prefix_command();
  CommandLine line;
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  for (const auto& spec : kSpecs) {
    std::string names = std::string(spec.flag) + (spec.kind == Kind::flag && std::string(spec.key) == "quiet" ? ",-q" : "");
    if (spec.kind == Kind::flag) {
      app.add_flag(names, flags[spec.key]);
    } else if (spec.kind == Kind::topology) {
      app.add_option(names, values[spec.key])->expected(0, 1);  // bare: --status --topology
    } else {
      app.add_option(names, values[spec.key]);
    }
  }
  app.add_option("--gpu", line.gpu);
  app.add_option("--config", line.config);
  app.add_option("--profile", line.profile);
  app.add_flag("--status", line.status);
  app.add_flag("--json", line.json);
  app.add_flag("-n,--dry-run", line.dry_run);
  app.add_flag("--print-env", line.print_env);
  app.add_flag("--show-config", line.show_config);
  app.add_option("--color", line.color);
  std::string watch_every;
  app.add_option("--watch", watch_every)->expected(0, 1);
  std::string init_path;
  app.add_option("--init-lock-dir", init_path)->expected(0, 1);
  std::string kernel;
  app.add_option("--install-kernel", kernel);
  app.add_flag("-V,--version", line.version);
  app.add_flag("-h,--help", line.help);
  if (auto present = check_values_present(args); !present) return present.error();
  std::vector<std::string> reversed(args.rbegin(), args.rend() - (args.empty() ? 0 : 1));
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    std::string what = error.what();
    return usage_error(what.empty() ? "invalid command line; see with-gpu --help" : what + "; see with-gpu --help");
  }
  if (auto filled = check_not_empty(app, line); !filled) return filled.error();
  if (app.count("--init-lock-dir") > 0) line.init_lock_dir = init_path;
  if (app.count("--install-kernel") > 0) line.install_kernel = kernel;
  if (app.count("--watch") > 0) line.watch = watch_every;
  line.args = args;
  for (const auto& spec : kSpecs) {
    if (app.count(spec.flag) == 0) continue;
    if (spec.kind == Kind::topology && values[spec.key].empty()) {
      line.show_topology = true;
      continue;
    }
    line.settings[spec.key] = spec.kind == Kind::flag ? "true" : values[spec.key];
  }
  line.rest = app.remaining();
  return line;
}

std::map<std::string, ValueKind> config_keys() {
  std::map<std::string, ValueKind> keys;
  for (const auto& spec : kSpecs) keys[spec.key] = spec.kind == Kind::flag ? ValueKind::boolean : ValueKind::value;
  return keys;
}

// The config files in force: the system file, then the user's (or the one named).
struct ConfigFiles {
  std::optional<ConfigFile> system;
  std::optional<ConfigFile> user;
};

Result<ConfigFiles> read_config_files(const CommandLine& line, const SettingSources& sources) {
  ConfigFiles files;
  auto keys = config_keys();
  auto system = read_config_file(sources.system_config, MissingFile::allowed, keys);
  if (!system) return system.error();
  files.system = *system;
  std::optional<std::string> named = line.config.empty() ? sources.config : std::optional<std::string>(line.config);
  if (named || !sources.user_config.empty()) {
    auto user = read_config_file(named.value_or(sources.user_config), named ? MissingFile::error : MissingFile::allowed,
                                 keys);
    if (!user) return user.error();
    files.user = *user;
  }
  return files;
}

// Checks every value in a file by the flags' rules, even one a flag overrides: a
// broken config file is reported the first time it is read, not when it matters.
Result<Ok> check_values(const std::vector<ConfigEntry>& entries) {
  for (const auto& entry : entries) {
    Options scratch;
    if (auto applied = apply(*spec_for_key(entry.key), entry.value, entry.location + ": " + entry.key, scratch);
        !applied) {
      return applied.error();
    }
  }
  return Ok{};
}

Result<Ok> check_files(const ConfigFiles& files) {
  for (const auto* file : {&files.system, &files.user}) {
    if (!*file) continue;
    if (auto checked = check_values((*file)->defaults); !checked) return checked.error();
    for (const auto& [name, entries] : (*file)->profiles) {
      if (auto checked = check_values(entries); !checked) return checked.error();
    }
  }
  return Ok{};
}

// [policy] binds users, so only the system file may set it; its values are checked by
// their own rules and kept apart from the settings, which any layer may override.
Result<Ok> read_policy(const ConfigFiles& files, const SettingSources& sources, Options& options) {
  if (files.user && files.user->policy_location) {
    return usage_error(*files.user->policy_location + ": [policy] is set only in the system config (" +
                       sources.system_config + "); a user's file or --config cannot set it");
  }
  if (!files.system || files.system->policy.empty()) return Ok{};
  UserPolicy policy{0, files.system->path};
  for (const auto& entry : files.system->policy) {
    auto count = parse_unsigned(entry.value);
    if (!count || *count == 0) {
      return usage_error(entry.location + ": " + entry.key + ": '" + entry.value + "' is not a whole number of at least 1");
    }
    policy.max_gpus_per_user = *count;
  }
  options.policy = policy;
  return Ok{};
}

void layer(std::map<std::string, Setting>& merged, const std::vector<ConfigEntry>& entries, const std::string& origin,
           int rank) {
  for (const auto& entry : entries) {
    merged[entry.key] = {entry.value, origin + " in " + entry.location, entry.location + ": " + entry.key, rank};
  }
}

Result<Ok> layer_profile(std::map<std::string, Setting>& merged, const ConfigFiles& files, const std::string& profile) {
  std::vector<std::string> known;
  bool found = false;
  int rank = 3;
  for (const auto* file : {&files.system, &files.user}) {
    ++rank;
    if (!*file) continue;
    for (const auto& [name, entries] : (*file)->profiles) known.push_back(name);
    auto entries = (*file)->profiles.find(profile);
    if (entries == (*file)->profiles.end()) continue;
    found = true;
    layer(merged, entries->second, "profile " + profile, rank);
  }
  if (found) return Ok{};
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  std::string list;
  for (const auto& name : known) list += (list.empty() ? "" : ", ") + name;
  if (known.empty()) return usage_error("unknown profile \"" + profile + "\" (no config file defines any profile)");
  auto guess = nearest(profile, known);
  return usage_error("unknown profile \"" + profile + "\" (" + (guess ? "did you mean \"" + *guess + "\"? " : "") +
                     "known profiles: " + list + ")");
}

// `path` made absolute against the current directory ("." and empty parts dropped), so
// the claims directory does not depend on where a command later changes to, and
// --show-config shows the directory that is used. Config files are no exception: a
// file is read from many directories.
Result<std::string> absolute_lock_dir(const std::string& path, const std::string& name,
                                      const std::optional<std::string>& current_dir) {
  if (path.empty() || path.front() == '/') return path;
  std::string base;
  if (current_dir) {
    base = *current_dir;
  } else {
    std::error_code error;
    base = std::filesystem::current_path(error).string();
    if (error) {
      return Error{ErrorKind::lock_dir,
                   name + ": '" + path + "' is relative and the current directory cannot be read (" + error.message() +
                       "); give an absolute path",
                   {}};
    }
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = std::min(path.find('/', start), path.size());
    std::string part = path.substr(start, slash - start);
    if (!part.empty() && part != ".") base += (!base.empty() && base.back() == '/' ? "" : "/") + part;
    start = slash + 1;
  }
  return base;
}

// Every setting that is set somewhere, with the layer it comes from.
Result<std::map<std::string, Setting>> merge(const CommandLine& line, const ConfigFiles& files,
                                             const SettingSources& sources) {
  std::map<std::string, Setting> merged;
  if (files.system) layer(merged, files.system->defaults, "[defaults]", 1);
  if (files.user) layer(merged, files.user->defaults, "[defaults]", 2);
  std::optional<std::string> profile = line.profile.empty() ? sources.profile : std::optional<std::string>(line.profile);
  if (profile && !profile->empty()) {
    if (auto layered = layer_profile(merged, files, *profile); !layered) return layered.error();
  }
  if (sources.lock_dir) merged["lock_dir"] = {*sources.lock_dir, "WITH_GPU_LOCK_DIR", "WITH_GPU_LOCK_DIR", 6};
  for (const auto& [key, value] : line.settings) merged[key] = {value, "flag", spec_for_key(key)->flag, 7};
  if (auto lock_dir = merged.find("lock_dir"); lock_dir != merged.end()) {
    auto absolute = absolute_lock_dir(lock_dir->second.value, lock_dir->second.name, sources.current_dir);
    if (!absolute) return absolute.error();
    lock_dir->second.value = *absolute;
  }
  return merged;
}

// --max-gpus defaults to --min-gpus: a count set only by a weaker layer than the other
// follows it rather than contradicting it.
Result<Ok> settle_counts(const std::map<std::string, Setting>& merged, Options& options) {
  SelectionOptions& selection = options.selection;
  auto min = merged.find("min_gpus");
  auto max = merged.find("max_gpus");
  int min_rank = min == merged.end() ? 0 : min->second.rank;
  int max_rank = max == merged.end() ? 0 : max->second.rank;
  if (options.all_gpus) {
    if (max != merged.end() && max_rank >= min_rank) {
      return usage_error(min->second.name + " all takes every GPU of the allocation; " + max->second.name +
                         " cannot limit it");
    }
    return Ok{};
  }
  if (max == merged.end() || (selection.max_gpus < selection.min_gpus && max_rank < min_rank)) {
    selection.max_gpus = selection.min_gpus;
  }
  if (selection.min_gpus > selection.max_gpus) {
    return usage_error(min->second.name + " " + std::to_string(selection.min_gpus) + " is more than " +
                       max->second.name + " " + std::to_string(selection.max_gpus));
  }
  return Ok{};
}

Result<Ok> apply_settings(const std::map<std::string, Setting>& merged, Options& options) {
  for (const auto& spec : kSpecs) {
    auto setting = merged.find(spec.key);
    if (setting == merged.end()) continue;
    if (auto applied = apply(spec, setting->second.value, setting->second.name, options); !applied) {
      return applied.error();
    }
  }
  return settle_counts(merged, options);
}

// Combinations that only make sense together on one command line.
// A flag given with --status that only a launch can use: a sentence saying so. --gpu and
// --gpu-type pick the rows; thresholds colour the readings that fail them; --sample-window,
// --lock-dir and --ignore-slurm change what is shown; the others would silently do nothing.
std::optional<std::string> not_for_status(const CommandLine& line) {
  static const char* const kLaunchOnly[] = {"min_gpus", "max_gpus", "wait",  "timeout",      "poll_interval",
                                           "share",    "id_format", "numa",  "quiet",        "require_idle"};
  for (const char* key : kLaunchOnly) {
    if (!line.settings.count(key)) continue;
    std::string flag = "--" + std::string(key);
    std::replace(flag.begin(), flag.end(), '_', '-');
    return flag + " does not apply to --status, which shows every GPU (--gpu and --gpu-type pick rows); "
                  "to see what a launch would choose, use --dry-run";
  }
  if (line.settings.count("topology")) {
    return std::string("--topology ") + line.settings.at("topology") +
           " chooses GPUs for a launch; with --status, --topology alone shows the link matrix";
  }
  return std::nullopt;
}

Result<Ok> choose_color(const std::string& value, ColorWhen& color) {
  if (value == "auto") color = ColorWhen::automatic;
  else if (value == "always") color = ColorWhen::always;
  else if (value == "never") color = ColorWhen::never;
  else return usage_error("--color: '" + value + "' is not auto, always or never");
  return Ok{};
}

bool valid_kernel_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::isalnum(static_cast<unsigned char>(name.front())) &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
}

// The command line without --install-kernel NAME: what the kernel's with-gpu is given.
std::vector<std::string> flags_for_kernel(const std::vector<std::string>& args) {
  std::vector<std::string> flags;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--install-kernel") {
      ++i;
      continue;
    }
    if (args[i].rfind("--install-kernel=", 0) == 0 || args[i] == "--") continue;
    flags.push_back(args[i]);
  }
  return flags;
}

Result<Ok> check_flag_combinations(const CommandLine& line) {
  auto given = [&line](const char* key) { return line.settings.count(key) > 0; };
  if (given("timeout") && !given("wait")) return usage_error("--timeout needs --wait");
  if (given("strict") && !given("gpu_type")) return usage_error("--strict needs --gpu-type");
  if (int(line.status) + int(line.dry_run) + int(line.print_env) > 1) {
    return usage_error("--status, --dry-run and --print-env cannot be combined");
  }
  if (line.json && !line.status && !line.dry_run) return usage_error("--json goes with --status or --dry-run");
  if (given("bind") && (line.status || line.print_env)) {
    return usage_error(std::string("--bind pins a command that with-gpu runs; ") +
                       (line.status ? "--status" : "--print-env") + " runs none");
  }
  if (line.init_lock_dir && (line.status || line.dry_run || line.print_env || line.show_config)) {
    return usage_error("--init-lock-dir makes the claims directory and exits; it goes with no other action");
  }
  if (line.init_lock_dir && !line.init_lock_dir->empty() && line.init_lock_dir->front() != '/') {
    return usage_error("--init-lock-dir: '" + *line.init_lock_dir + "' is not an absolute path");
  }
  if (line.status) {
    if (auto misplaced = not_for_status(line)) return usage_error(*misplaced);
  }
  if (line.install_kernel && (line.status || line.dry_run || line.print_env || line.show_config || line.init_lock_dir)) {
    return usage_error("--install-kernel writes a Jupyter kernel and exits; it goes with no other action");
  }
  if (line.install_kernel && !valid_kernel_name(*line.install_kernel)) {
    return usage_error("--install-kernel: '" + *line.install_kernel +
                       "' is not a kernel name (letters, digits, '.', '_' and '-', as Jupyter allows)");
  }
  if (line.show_topology && !line.status) {
    return usage_error("--topology without a value goes with --status; to choose GPUs: --topology prefer|ignore");
  }
  return Ok{};
}

// Spaces that pad `text` to `width` columns, at least one. A column is a UTF-8
// character, so a non-ASCII value lines up; a longer value simply pushes its comment on.
std::string padding(const std::string& text, std::size_t width) {
  auto columns = static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  return std::string(columns < width ? width - columns : 1, ' ');
}

std::string built_in(const std::string& key, const std::string& default_lock_dir) {
  return key == "lock_dir" ? default_lock_dir : kBuiltIn.at(key);
}

std::string show_config(const std::map<std::string, Setting>& merged, const std::string& default_lock_dir,
                        const std::vector<ConfigEntry>& policy) {
  std::string out = "# effective settings; highest first: flag, WITH_GPU_LOCK_DIR, profile, user [defaults],\n"
                    "# system [defaults], built-in\n";
  for (const auto& spec : kSpecs) {
    auto setting = merged.find(spec.key);
    std::string value = setting == merged.end() ? built_in(spec.key, default_lock_dir) : setting->second.value;
    std::string origin = setting == merged.end() ? "built-in" : setting->second.origin;
    std::string key = spec.key;
    out += key + padding(key, 15) + "= " + value + padding(value, 16) + "# " + origin + "\n";
  }
  if (!policy.empty()) out += "# policy: set by the system config; users' files and flags cannot change it\n";
  for (const auto& entry : policy) {
    out += entry.key + padding(entry.key, 15) + "= " + entry.value + padding(entry.value, 16) + "# policy in " +
           entry.location + "\n";
  }
  return out;
}

// The command is what CLI11 left over: after "--", or from the first non-option word.
Result<Ok> apply_command(std::vector<std::string> rest, Options& options) {
  if (!rest.empty() && rest.front() == "--") {
    rest.erase(rest.begin());
  } else if (!rest.empty() && rest.front().size() > 1 && rest.front()[0] == '-') {
    return unknown_option(rest.front());
  }
  options.command = std::move(rest);
  if (!options.command.empty() && (options.action == Action::print_env || options.action == Action::status ||
                                   options.action == Action::init_lock_dir ||
                                   options.action == Action::install_kernel)) {
    const char* flag = options.action == Action::status          ? "--status"
                       : options.action == Action::print_env    ? "--print-env"
                       : options.action == Action::install_kernel ? "--install-kernel"
                                                                  : "--init-lock-dir";
    return usage_error(std::string(flag) + " takes no command (got '" + options.command.front() + "')");
  }
  if (options.command.empty() && options.action == Action::run) {
    return usage_error("no command given; usage: with-gpu [OPTIONS] COMMAND [ARGS...] (see with-gpu --help)");
  }
  return Ok{};
}

Result<Options> convert(const CommandLine& line, const SettingSources& sources) {
  Options options;
  if (line.help || line.version) {
    options.action = Action::print_text;
    options.text = line.help ? help_text() : std::string("with-gpu ") + WITH_GPU_VERSION + "\n";
    return options;
  }
  if (auto combined = check_flag_combinations(line); !combined) return combined.error();
  auto files = read_config_files(line, sources);
  if (!files) return files.error();
  if (auto checked = check_files(*files); !checked) return checked.error();
  if (auto policy = read_policy(*files, sources, options); !policy) return policy.error();
  auto merged = merge(line, *files, sources);
  if (!merged) return merged.error();
  if (auto applied = apply_settings(*merged, options); !applied) return applied.error();
  if (line.show_config) {
    options.action = Action::print_text;
    options.text = show_config(*merged, sources.default_lock_dir,
                               files->system ? files->system->policy : std::vector<ConfigEntry>{});
    return options;
  }
  if (!line.gpu.empty()) {
    auto list = parse_gpu_list(line.gpu, "--gpu");
    if (!list) return list.error();
    options.gpu_list = *list;
  }
  options.action = line.status          ? Action::status
                   : line.dry_run       ? Action::dry_run
                   : line.print_env     ? Action::print_env
                   : line.init_lock_dir ? Action::init_lock_dir
                   : line.install_kernel ? Action::install_kernel
                                        : Action::run;
  if (line.init_lock_dir && !line.init_lock_dir->empty()) options.init_lock_dir = line.init_lock_dir;
  if (!line.color.empty()) {
    if (auto chosen = choose_color(line.color, options.color); !chosen) return chosen.error();
  }
  if (line.watch) {
    if (!line.status) return usage_error("--watch goes with --status (with-gpu --status --watch [INTERVAL])");
    if (line.json) return usage_error("--watch redraws the table; for JSON, run --status --json in a loop");
    auto every = line.watch->empty() ? std::optional<std::chrono::milliseconds>(1000) : parse_duration(*line.watch);
    if (!every || every->count() < 100) {
      return usage_error("--watch: '" + *line.watch + "' is not a duration of at least 100ms (e.g. 1s, 500ms)");
    }
    options.watch = *every;
  }
  if (line.install_kernel) {
    options.kernel_name = *line.install_kernel;
    options.kernel_flags = flags_for_kernel(line.args);
  }
  options.output = line.json ? Output::json : Output::text;
  options.show_topology = line.show_topology;
  if (auto applied = apply_command(line.rest, options); !applied) return applied.error();
  return options;
}

}  // namespace

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

std::string user_config_path(const std::optional<std::string>& xdg_config_home, const std::optional<std::string>& home) {
  if (xdg_config_home && !xdg_config_home->empty()) return *xdg_config_home + "/with-gpu/config.toml";
  if (home && !home->empty()) return *home + "/.config/with-gpu/config.toml";
  return {};
}

Result<Options> parse_options(const std::vector<std::string>& args, const SettingSources& sources) {
  auto line = read_command_line(args);
  if (!line) return line.error();
  return convert(*line, sources);
}

std::string help_text() {
  return R"(with-gpu )" WITH_GPU_VERSION R"HELP( - run a command on free NVIDIA GPUs

usage: with-gpu [OPTIONS] [--] COMMAND [ARGS...]
       with-gpu --status [--json | --watch [INTERVAL]] [--topology] [--gpu LIST]

Picks GPUs, claims them so concurrent with-gpu launches never collide, sets
CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER, then replaces itself with COMMAND.
Only GPUs in an inherited CUDA_VISIBLE_DEVICES (Slurm, containers) are considered.

selection:
  --gpu LIST           use these GPUs (NVML indices or GPU- UUIDs, e.g. 0,2), in order
  --min-gpus N|all     at least N GPUs; all: every GPU of the allocation (Slurm's,
                       CUDA_VISIBLE_DEVICES), else of the machine [default: 1]
  --max-gpus N         at most N GPUs [default: --min-gpus]
  --gpu-type TEXT      prefer GPUs whose name contains TEXT (case-insensitive)
  --strict             with --gpu-type: never fall back to other models

thresholds:
  --min-memory SIZE    free memory floor [default: 2048 MiB]; a bare number is MiB,
                       K/M/G/T and KiB/MiB/GiB are binary, KB/MB/GB decimal; 0 disables
  --max-util PCT       utilization ceiling, 0-100, against the --sample-window mean
  --max-temp C         GPU core temperature ceiling in degrees Celsius; while waiting,
                       a GPU that was hotter must stay below it for a whole --sample-window
  --max-power W|P%     power draw ceiling in watts, or P% of the enforced power limit,
                       against the --sample-window mean
  --sample-window DUR  average utilization and power over the driver's samples of the
                       last DUR (instantaneous where it keeps none) [default: 5s]
  --require-idle       only idle GPUs (no compute process, < 500 MiB used)
  a GPU that does not report a reading a threshold needs is rejected by it

topology:
  --topology MODE      prefer: choose several GPUs as the best-connected set (NVLink
                       links, then PCIe path, then NUMA node; ties to free memory)
                       among GPUs of one tier (idle before busy); ignore: the ranking
                       alone (idle first, then most free memory) [default: prefer]
  --numa MODE          prefer: when with-gpu may run only on some CPUs (taskset, numactl,
                       Slurm, cgroup cpusets), GPUs local to them go first; require:
                       only those; ignore: neither [default: prefer]
  --bind               run the command on the CPUs local to its GPUs (within those it
                       may use), memory preferred on their NUMA nodes (needs libnuma1)

waiting:
  --wait               wait until enough GPUs are free, in arrival order (a GPU an older
                       waiter can use is kept for it); starts within milliseconds of a
                       claim being released, re-reads the driver every --poll-interval
  --timeout DURATION   with --wait: give up after DURATION (30, 90s, 5m, 1h) [default: never]
  --poll-interval DUR  with --wait: re-read the driver this often (500ms, 2s) [default: 5s]

output:
  --status             show every GPU (--gpu, --gpu-type pick rows), its processes,
                       claims and the waiting line, and exit
  --json               with --status or --dry-run: print JSON (docs/json.md)
  --topology           with --status: the GPU-by-GPU matrix, as nvidia-smi topo -m
                       (NV# NVLinks, PIX, PXB, PHB, NODE, SYS; ? unknown)
  -n, --dry-run        show the decision and every GPU's verdict; claim and run nothing
  --print-env          print `export CUDA_VISIBLE_DEVICES=...` lines for
                       eval "$(with-gpu --print-env --min-memory 8G)"; claims nothing,
                       so no claim outlives it: concurrent launches may pick the same GPU
  -q, --quiet          no summary or warnings on stderr
  --id-format FORMAT   CUDA_VISIBLE_DEVICES as auto, index (PCI bus order) or uuid [default: auto]
  --watch [INTERVAL]   with --status: redraw in place every INTERVAL [default: 1s];
                       q or Ctrl-C quits
  --color WHEN         colour --status: auto (a terminal, unless NO_COLOR is set), always,
                       never [default: auto]; readings failing the thresholds in force
                       are red
  --install-kernel NAME  write a Jupyter kernel NAME whose kernels start through with-gpu
                       with the other flags given: each kernel claims its own GPU until it
                       shuts down (python3 from PATH, with ipykernel); then exit

claims:
  --share              a shared claim: other --share jobs may use the GPU too, exclusive
                       jobs may not (small inference jobs, notebooks)
  --ignore-slurm       inside a Slurm job that was given no GPUs, choose among every GPU
                       of the node instead of refusing (exit 4)
  --lock-dir PATH      claims directory [default: $WITH_GPU_LOCK_DIR, else /run/with-gpu
                       when root made it with --init-lock-dir, else /tmp/with-gpu]
  --init-lock-dir [PATH]  as root: make PATH [default: /run/with-gpu] a hardened claims
                       directory, root's, with a lock file for every GPU: users can claim
                       but not delete or plant lock files (docs/security.md); then exit

configuration:
  --profile NAME       apply [profiles.NAME] from the config files [env: WITH_GPU_PROFILE]
  --config PATH        read this config file instead of the user's; it must exist
                       [env: WITH_GPU_CONFIG]
  --show-config        print the effective settings and where each comes from, and the
                       admin's [policy] (system config only, e.g. max_gpus_per_user = 2:
                       a launch over it waits with --wait, else exits 4)
  Config files (TOML): /etc/with-gpu/config.toml, then $XDG_CONFIG_HOME/with-gpu/config.toml
  (~/.config/with-gpu/config.toml). [defaults] always applies; keys are the long flags in
  snake_case with the flags' values (min_memory = "40G", max_util = 50, wait = true).
  Precedence: flags, WITH_GPU_LOCK_DIR, profile, user [defaults], system [defaults].

  -V, --version        print the version
  -h, --help           print this help

environment:
  WITH_GPU_LOCK_DIR      claims directory when --lock-dir is not given
  WITH_GPU_NVML_LIBRARY  path of libnvidia-ml.so.1 [default: found by the dynamic loader]
  CUDA_VISIBLE_DEVICES   if set, only the GPUs it lists are candidates
  NO_COLOR               no colors, even on a terminal
  WITH_GPU_SYSTEM_CONFIG the system config file [default: /etc/with-gpu/config.toml]

exit status:
  the command's own status once it runs; otherwise
  2 usage error, 3 NVIDIA driver/NVML unavailable, 4 no suitable GPU,
  5 lock directory unusable, 124 --wait timed out, 126 command not executable,
  127 command not found, 130/143 interrupted (SIGINT/SIGTERM) while waiting
)HELP";
}

}  // namespace wg
