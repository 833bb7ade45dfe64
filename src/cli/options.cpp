#include "cli/options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <map>

#include "cli/command_line.hpp"
#include "cli/completions.hpp"
#include "cli/flags.hpp"
#include "cli/help.hpp"
#include "cli/settings.hpp"
#include "cli/version.hpp"
#include "core/nearest.hpp"
#include "core/units.hpp"

namespace wg {
namespace {

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
  std::vector<std::string> known;
  for (const auto& flag : all_flags()) known.emplace_back(flag.name);
  auto guess = nearest(name, known);
  std::string message = "unknown option '" + name + "'";
  message += guess ? " (did you mean '" + *guess + "'?)" : "; see with-gpu --help";
  return usage_error(message);
}

// The letters of the short flags; none takes a value.
const std::string& short_flags() {
  static const std::string letters = [] {
    std::string found;
    for (const auto& flag : all_flags()) {
      if (flag.short_name) found += flag.short_name;
    }
    return found;
  }();
  return letters;
}

// A word that cannot be a value: anything starting with "--" ("--" itself included),
// and our short flags, alone or grouped ("-n", "-nq"). "-5" stays a value.
bool is_option_word(const std::string& word) {
  if (word.rfind("--", 0) == 0) return true;
  return word.size() > 1 && word[0] == '-' && word.find_first_not_of(short_flags(), 1) == std::string::npos;
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
      if (word.find_first_not_of(short_flags(), 1) != std::string::npos) return Ok{};
      continue;
    }
    const Flag* flag = flag_named(name);
    if (!flag) return Ok{};
    if (equals != std::string::npos && flag->takes == Takes::nothing) {
      return usage_error(name + " takes no value (got '" + word + "')");
    }
    if (inline_value) continue;
    bool has_next = i + 1 < args.size();
    if (flag->takes == Takes::optional_value && has_next && !is_option_word(args[i + 1])) ++i;
    if (flag->takes != Takes::value) continue;
    if (!has_next) return usage_error(name + " needs a value");
    const std::string& next = args[++i];
    if (next == "--") return usage_error(name + " needs a value (got '--')");
    if (is_option_word(next)) return usage_error(name + " needs a value (got the option '" + next + "')");
  }
  return Ok{};
}

// Options whose empty value would otherwise be taken for a choice.
Result<Ok> check_not_empty(const CommandLine& line) {
  if (line.gpu && line.gpu->empty()) return usage_error("--gpu needs at least one GPU index or UUID");
  if (line.config && line.config->empty()) return usage_error("--config must not be empty");
  if (line.profile && line.profile->empty()) return usage_error("--profile must not be empty");
  return Ok{};
}

// Records one flag CLI11 found: a setting by its key, anything else in its field. A
// setting given without its optional value (--topology) is recorded as the other use.
void record(const Flag& flag, const std::string& value, CommandLine& line) {
  bool bare = flag.takes == Takes::optional_value && value.empty();
  if (!flag.key.empty() && !(bare && flag.record)) {
    line.settings[std::string(flag.key)] = flag.takes == Takes::nothing ? "true" : value;
  } else {
    line.*flag.record = value;
  }
}

Result<CommandLine> read_command_line(const std::vector<std::string>& args) {
  CLI::App app("with-gpu", "with-gpu");
  app.set_help_flag();
  app.prefix_command();
  std::map<std::string_view, std::string> values;
  std::map<std::string_view, bool> given;
  for (const auto& flag : all_flags()) {
    std::string names = (flag.short_name ? std::string("-") + flag.short_name + "," : "") + std::string(flag.name);
    if (flag.takes == Takes::nothing) {
      app.add_flag(names, given[flag.name]);
    } else {
      app.add_option(names, values[flag.name])->expected(flag.takes == Takes::optional_value ? 0 : 1, 1);
    }
  }
  if (auto present = check_values_present(args); !present) return present.error();
  std::vector<std::string> reversed(args.rbegin(), args.rend() - (args.empty() ? 0 : 1));
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    std::string what = error.what();
    return usage_error(what.empty() ? "invalid command line; see with-gpu --help" : what + "; see with-gpu --help");
  }
  CommandLine line;
  for (const auto& flag : all_flags()) {
    if (app.count(std::string(flag.name)) > 0) record(flag, values[flag.name], line);
  }
  if (auto filled = check_not_empty(line); !filled) return filled.error();
  line.args = args;
  line.rest = app.remaining();
  return line;
}

// Combinations that only make sense together on one command line.
// A flag given with --status that only a launch can use: a sentence saying so. --gpu and
// --gpu-type pick the rows; thresholds colour the readings that fail them; --sample-window,
// --lock-dir and --ignore-slurm change what is shown; the others would silently do nothing.
std::optional<std::string> not_for_status(const CommandLine& line) {
  static const char* const kLaunchOnly[] = {"min_gpus", "max_gpus", "wait",  "timeout",      "poll_interval",
                                           "share",    "id_format", "numa",  "quiet",        "require_idle",
                                           "mig_profile"};
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
  if (int(line.status.has_value()) + int(line.dry_run.has_value()) + int(line.print_env.has_value()) > 1) {
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
  if (line.topology_matrix && !line.status) {
    return usage_error("--topology without a value goes with --status; to choose GPUs: --topology prefer|ignore");
  }
  return Ok{};
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
  if (line.man_page) {
    options.action = Action::print_text;
    options.text = man_page();
    return options;
  }
  if (line.completions) {
    auto script = completion_script(*line.completions);
    if (!script) return script.error();
    options.action = Action::print_text;
    options.text = *script;
    return options;
  }
  if (auto combined = check_flag_combinations(line); !combined) return combined.error();
  auto files = read_config_files(line, sources);
  if (!files) return files.error();
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
  if (line.gpu) {
    auto list = parse_gpu_list(*line.gpu, "--gpu");
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
  if (line.color) {
    if (auto chosen = choose_color(*line.color, options.color); !chosen) return chosen.error();
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
  options.show_topology = line.topology_matrix.has_value();
  if (auto applied = apply_command(line.rest, options); !applied) return applied.error();
  return options;
}

}  // namespace

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

}  // namespace wg
