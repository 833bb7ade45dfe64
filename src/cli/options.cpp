#include "cli/options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>

#include "cli/version.hpp"
#include "core/units.hpp"

namespace wg {
namespace {

// Every long option, for "did you mean ...?".
const std::vector<std::string> kLongOptions = {
    "--gpu",      "--min-gpus", "--max-gpus", "--require-idle", "--min-memory", "--max-util", "--max-temp",
    "--max-power", "--sample-window",
    "--gpu-type", "--strict",   "--wait",     "--timeout",      "--poll-interval",      "--status",     "--json",
    "--dry-run",  "--quiet",    "--lock-dir", "--id-format",    "--share",      "--print-env",  "--version",
    "--help"};

// Raw flag values as typed; converted with our own parsers for our own messages.
struct RawOptions {
  std::string gpu, min_gpus, max_gpus, min_memory, max_util, max_temp, max_power, sample_window, gpu_type, timeout,
      poll_interval, lock_dir, id_format;
  bool require_idle = false, strict = false, wait = false, status = false, json = false, dry_run = false;
  bool print_env = false;
  bool quiet = false, share = false, version = false, help = false;
};

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Error unknown_option(const std::string& given) {
  std::string name = given.substr(0, given.find('='));
  std::string best;
  std::size_t best_distance = 4;  // suggest only close matches
  for (const auto& option : kLongOptions) {
    std::size_t distance = edit_distance(name, option);
    if (distance < best_distance) {
      best_distance = distance;
      best = option;
    }
  }
  std::string message = "unknown option '" + name + "'";
  message += best.empty() ? "; see with-gpu --help" : " (did you mean '" + best + "'?)";
  return usage_error(message);
}

void declare(CLI::App& app, RawOptions& raw) {
  app.add_option("--gpu", raw.gpu);
  app.add_option("--min-gpus", raw.min_gpus);
  app.add_option("--max-gpus", raw.max_gpus);
  app.add_flag("--require-idle", raw.require_idle);
  app.add_option("--min-memory", raw.min_memory);
  app.add_option("--max-util", raw.max_util);
  app.add_option("--max-temp", raw.max_temp);
  app.add_option("--max-power", raw.max_power);
  app.add_option("--sample-window", raw.sample_window);
  app.add_option("--gpu-type", raw.gpu_type);
  app.add_flag("--strict", raw.strict);
  app.add_flag("--wait", raw.wait);
  app.add_option("--timeout", raw.timeout);
  app.add_option("--poll-interval", raw.poll_interval);
  app.add_flag("--status", raw.status);
  app.add_flag("--json", raw.json);
  app.add_flag("-n,--dry-run", raw.dry_run);
  app.add_flag("--print-env", raw.print_env);
  app.add_flag("-q,--quiet", raw.quiet);
  app.add_option("--lock-dir", raw.lock_dir);
  app.add_flag("--share", raw.share);
  app.add_option("--id-format", raw.id_format);
  app.add_flag("-V,--version", raw.version);
  app.add_flag("-h,--help", raw.help);
}

Result<unsigned> count_value(const std::string& flag, const std::string& text) {
  auto value = parse_unsigned(text);
  if (!value) return usage_error(flag + ": '" + text + "' is not a whole number");
  if (*value == 0) return usage_error(flag + " must be at least 1");
  return *value;
}

Result<Ok> apply_counts(const RawOptions& raw, Options& options) {
  if (!raw.min_gpus.empty()) {
    auto value = count_value("--min-gpus", raw.min_gpus);
    if (!value) return value.error();
    options.selection.min_gpus = *value;
  }
  options.selection.max_gpus = options.selection.min_gpus;
  if (!raw.max_gpus.empty()) {
    auto value = count_value("--max-gpus", raw.max_gpus);
    if (!value) return value.error();
    options.selection.max_gpus = *value;
  }
  if (options.selection.min_gpus > options.selection.max_gpus) {
    return usage_error("--min-gpus " + std::to_string(options.selection.min_gpus) + " is more than --max-gpus " +
                       std::to_string(options.selection.max_gpus));
  }
  return Ok{};
}

Result<Ok> apply_thresholds(const RawOptions& raw, Options& options) {
  if (!raw.min_memory.empty()) {
    auto bytes = parse_memory_size(raw.min_memory);
    if (!bytes) {
      return usage_error("--min-memory: '" + raw.min_memory + "' is not a size (e.g. 8000 for MiB, 8G, 1.5GiB, 500MB)");
    }
    options.selection.min_free_bytes = *bytes;
  }
  if (!raw.max_util.empty()) {
    auto percent = parse_unsigned(raw.max_util);
    if (!percent || *percent > 100) {
      return usage_error("--max-util: '" + raw.max_util + "' is not a percentage from 0 to 100");
    }
    options.selection.max_util_percent = *percent;
  }
  if (!raw.max_temp.empty()) {
    auto celsius = parse_unsigned(raw.max_temp);
    if (!celsius || *celsius > 200) {
      return usage_error("--max-temp: '" + raw.max_temp + "' is not a temperature in degrees Celsius (e.g. 80)");
    }
    options.selection.max_temp_c = *celsius;
  }
  if (!raw.max_power.empty()) {
    if (auto power = parse_max_power(raw.max_power, options.selection); !power) return power.error();
  }
  if (!raw.sample_window.empty()) {
    auto window = parse_duration(raw.sample_window);
    if (!window || window->count() < 100 || window->count() > 600'000) {
      return usage_error("--sample-window: '" + raw.sample_window + "' is not a duration from 100ms to 10m (e.g. 5s)");
    }
    options.sample_window = *window;
  }
  options.selection.sample_window_ms = options.sample_window.count();
  if (raw.require_idle) options.selection.idle = IdleRequirement::idle_only;
  if (!raw.gpu_type.empty()) options.selection.gpu_type = raw.gpu_type;
  if (raw.strict) {
    if (raw.gpu_type.empty()) return usage_error("--strict needs --gpu-type");
    options.selection.type_fallback = TypeFallback::strict;
  }
  return Ok{};
}

Result<Ok> apply_waiting(const RawOptions& raw, Options& options) {
  options.wait = raw.wait;
  if (!raw.poll_interval.empty()) {
    auto interval = parse_duration(raw.poll_interval);
    if (!interval || interval->count() < 10) {
      return usage_error("--poll-interval: '" + raw.poll_interval + "' is not a duration of at least 10ms (e.g. 500ms, 2s)");
    }
    options.poll_interval = *interval;
  }
  if (raw.timeout.empty()) return Ok{};
  if (!raw.wait) return usage_error("--timeout needs --wait");
  auto duration = parse_duration(raw.timeout);
  if (!duration) return usage_error("--timeout: '" + raw.timeout + "' is not a duration (e.g. 30, 90s, 5m, 1h)");
  options.timeout = *duration;
  return Ok{};
}

Result<Ok> apply_output(const RawOptions& raw, Options& options) {
  if (int(raw.status) + int(raw.dry_run) + int(raw.print_env) > 1) {
    return usage_error("--status, --dry-run and --print-env cannot be combined");
  }
  if (raw.json && !raw.status && !raw.dry_run) return usage_error("--json goes with --status or --dry-run");
  options.action = raw.status      ? Action::status
                   : raw.dry_run   ? Action::dry_run
                   : raw.print_env ? Action::print_env
                                   : Action::run;
  options.output = raw.json ? Output::json : Output::text;
  options.quiet = raw.quiet;
  if (!raw.lock_dir.empty()) options.lock_dir = raw.lock_dir;
  if (raw.share) options.selection.claim_mode = ClaimMode::shared;
  if (raw.id_format.empty() || raw.id_format == "auto") return Ok{};
  if (raw.id_format == "index") {
    options.id_format = IdFormat::index;
  } else if (raw.id_format == "uuid") {
    options.id_format = IdFormat::uuid;
  } else {
    return usage_error("--id-format: '" + raw.id_format + "' is not one of auto, index, uuid");
  }
  return Ok{};
}

}  // namespace

Result<Ok> parse_max_power(const std::string& text, SelectionOptions& selection) {
  std::string number = text;
  bool percent = !number.empty() && number.back() == '%';
  if (percent || (!number.empty() && (number.back() == 'W' || number.back() == 'w'))) number.pop_back();
  auto value = parse_decimal(number);
  if (!value || *value <= 0) {
    return usage_error("--max-power: '" + text + "' is not watts or a percentage of the power limit (e.g. 250, 250W, 80%)");
  }
  if (percent && *value > 100) return usage_error("--max-power: '" + text + "' is more than 100% of the power limit");
  if (percent) {
    selection.max_power_fraction = *value / 100.0;
  } else {
    selection.max_power_w = *value;
  }
  return Ok{};
}

namespace {

// The command is what CLI11 left over: after "--", or from the first non-option word.
Result<Ok> apply_command(std::vector<std::string> rest, Options& options) {
  if (!rest.empty() && rest.front() == "--") {
    rest.erase(rest.begin());
  } else if (!rest.empty() && rest.front().size() > 1 && rest.front()[0] == '-') {
    return unknown_option(rest.front());
  }
  options.command = std::move(rest);
  if (!options.command.empty() && (options.action == Action::print_env || options.action == Action::status)) {
    return usage_error(std::string(options.action == Action::status ? "--status" : "--print-env") +
                       " takes no command (got '" + options.command.front() + "')");
  }
  if (options.command.empty() && options.action == Action::run) {
    return usage_error("no command given; usage: with-gpu [OPTIONS] COMMAND [ARGS...] (see with-gpu --help)");
  }
  return Ok{};
}

Result<Options> convert(const RawOptions& raw, const std::vector<std::string>& rest) {
  Options options;
  if (raw.help || raw.version) {
    options.action = Action::print_text;
    options.text = raw.help ? help_text() : std::string("with-gpu ") + WITH_GPU_VERSION + "\n";
    return options;
  }
  if (!raw.gpu.empty()) {
    auto list = parse_gpu_list(raw.gpu, "--gpu");
    if (!list) return list.error();
    options.gpu_list = *list;
  }
  for (auto step : {apply_counts, apply_thresholds, apply_waiting, apply_output}) {
    if (auto applied = step(raw, options); !applied) return applied.error();
  }
  if (auto applied = apply_command(rest, options); !applied) return applied.error();
  return options;
}

}  // namespace

Result<Options> parse_options(const std::vector<std::string>& args) {
  CLI::App app("with-gpu", "with-gpu");
  app.set_help_flag();
  app.prefix_command();
  RawOptions raw;
  declare(app, raw);
  std::vector<std::string> reversed(args.rbegin(), args.rend() - (args.empty() ? 0 : 1));
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    std::string what = error.what();
    return usage_error(what.empty() ? "invalid command line; see with-gpu --help" : what + "; see with-gpu --help");
  }
  return convert(raw, app.remaining());
}

std::string help_text() {
  return R"(with-gpu )" WITH_GPU_VERSION R"HELP( - run a command on free NVIDIA GPUs

usage: with-gpu [OPTIONS] [--] COMMAND [ARGS...]
       with-gpu --status [--json]

Picks GPUs, claims them so concurrent with-gpu launches never collide, sets
CUDA_VISIBLE_DEVICES and CUDA_DEVICE_ORDER, then replaces itself with COMMAND.
Only GPUs in an inherited CUDA_VISIBLE_DEVICES (Slurm, containers) are considered.

selection:
  --gpu LIST           use these GPUs (NVML indices or GPU- UUIDs, e.g. 0,2), in order
  --min-gpus N         at least N GPUs [default: 1]
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

waiting:
  --wait               wait until enough GPUs are free; starts within milliseconds of
                       a claim being released, re-reads the driver every --poll-interval
  --timeout DURATION   with --wait: give up after DURATION (30, 90s, 5m, 1h) [default: never]
  --poll-interval DUR  with --wait: re-read the driver this often (500ms, 2s) [default: 5s]

output:
  --status             show every GPU, its processes and claims, and exit
  --json               with --status or --dry-run: print JSON (docs/json.md)
  -n, --dry-run        show the decision and every GPU's verdict; claim and run nothing
  --print-env          print `export CUDA_VISIBLE_DEVICES=...` lines for
                       eval "$(with-gpu --print-env --min-memory 8G)"; claims nothing,
                       so no claim outlives it: concurrent launches may pick the same GPU
  -q, --quiet          no summary or warnings on stderr
  --id-format FORMAT   CUDA_VISIBLE_DEVICES as auto, index (PCI bus order) or uuid [default: auto]

claims:
  --share              a shared claim: other --share jobs may use the GPU too, exclusive
                       jobs may not (small inference jobs, notebooks)
  --lock-dir PATH      claims directory [default: $WITH_GPU_LOCK_DIR or /tmp/with-gpu]

  -V, --version        print the version
  -h, --help           print this help

environment:
  WITH_GPU_LOCK_DIR      claims directory when --lock-dir is not given
  WITH_GPU_NVML_LIBRARY  path of libnvidia-ml.so.1 [default: found by the dynamic loader]
  CUDA_VISIBLE_DEVICES   if set, only the GPUs it lists are candidates
  NO_COLOR               no colors, even on a terminal

exit status:
  the command's own status once it runs; otherwise
  2 usage error, 3 NVIDIA driver/NVML unavailable, 4 no suitable GPU,
  5 lock directory unusable, 124 --wait timed out, 126 command not executable,
  127 command not found, 130/143 interrupted (SIGINT/SIGTERM) while waiting
)HELP";
}

}  // namespace wg
