#include "cli/commands.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/exit_code.hpp"
#include "core/binding.hpp"
#include "core/gpu_list.hpp"
#include "nvml/nvml_library.hpp"
#include "output/decision_json.hpp"
#include "output/decision_report.hpp"
#include "output/status_json.hpp"
#include "output/status_table.hpp"
#include "output/style.hpp"
#include "output/topology_matrix.hpp"

namespace wg {
namespace {

// Under --watch, when the first frame was drawn: the header's time moves on with each
// frame. Empty for a single table.
using WatchStart = std::optional<std::chrono::steady_clock::time_point>;

// Under --status, --gpu and --gpu-type pick the rows (NVML indices); every GPU without them.
Result<std::optional<std::vector<unsigned>>> status_rows(const Options& options, const Machine& machine) {
  if (!options.gpu_list && !options.selection.gpu_type) return std::optional<std::vector<unsigned>>{};
  std::vector<unsigned> rows;
  if (options.gpu_list) {
    auto listed = resolve_gpu_list(*options.gpu_list, machine);
    if (!listed) return listed.error();
    rows = *listed;
  } else {
    for (const auto& gpu : machine.gpus) rows.push_back(gpu.index);
  }
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [&](unsigned index) { return !matches_type(machine.gpus[index], options.selection); }),
             rows.end());
  if (rows.empty()) {
    std::vector<std::string> models;
    for (const auto& gpu : machine.gpus) {
      if (std::find(models.begin(), models.end(), gpu.name) == models.end()) models.push_back(gpu.name);
    }
    return Error{ErrorKind::no_suitable_gpu,
                 fmt::format("no GPU here matches --gpu-type {} (the models: {})", *options.selection.gpu_type,
                             fmt::join(models, ", ")),
                 {}};
  }
  return std::optional<std::vector<unsigned>>(rows);
}

// The wall clock now: the start's reading, moved on by the steady clock since a watch began.
std::int64_t wall_now_ns(const CommandContext& context, StatusInputs& inputs, const WatchStart& watch_start) {
  if (!watch_start) return context.env.now_ns;
  auto since = inputs.services.clock->now() - *watch_start;
  return context.env.now_ns + std::chrono::duration_cast<std::chrono::nanoseconds>(since).count();
}

// The table's width: the terminal's, one column short under --watch (a line that fills
// the last column, then "clear to end of line", loses its last character on some terminals).
std::size_t table_columns(const Environment& env, const WatchStart& watch_start) {
  return watch_start && env.stdout_columns > 1 ? env.stdout_columns - 1 : env.stdout_columns;
}

void write_table(std::ostream& out, const CommandContext& context, StatusInputs& inputs, const Machine& machine,
                 StatusSource source, const WatchStart& watch_start) {
  const Options& options = context.options;
  const Environment& env = context.env;
  bool colors = options.color == ColorWhen::always ||
                (options.color == ColorWhen::automatic && env.stdout_tty && !env.no_color);
  source.nvml_library = env.nvml_library.value_or(kDefaultNvmlLibrary);
  source.overridden = env.nvml_library.has_value();
  source.sample_window_ms = options.sample_window.count();
  source.now_ns = wall_now_ns(context, inputs, watch_start);
  source.columns = table_columns(env, watch_start);
  source.hostname = env.hostname;
  source.time_of_day = time_of_day(wall_now_ns(context, inputs, watch_start));
  source.thresholds = &options.selection;
  out << render_status_table(machine, source, Style{colors ? Colors::on : Colors::off});
  if (options.show_topology) out << "\n" << render_topology_matrix(machine);
}

// One table (or JSON document) of the machine as read now.
int show_frame(const CommandContext& context, StatusInputs& inputs, std::ostream& out, const WatchStart& watch_start) {
  auto machine = inputs.read_machine();
  if (!machine) return report(machine.error(), context.err);
  // Only --status shows who runs each compute process; decisions never need it.
  if (inputs.services.describe_processes) inputs.services.describe_processes(*machine);
  ClaimsPlace place = inputs.claims.place();
  auto allocation = describe_allocation(inputs.given, *machine);
  auto rows = status_rows(context.options, *machine);
  if (!rows) return report(rows.error(), context.err);
  std::vector<Ticket> waiters;
  if (inputs.queue) {
    inputs.queue->use_gpus(uuids_of(*machine));
    waiters = inputs.queue->read({}).tickets;
  }
  const Environment& env = context.env;
  if (context.options.output == Output::json) {
    out << render_status_json(*machine, {env.hostname, env.timestamp, place, allocation, waiters, env.now_ns, *rows});
  } else {
    StatusSource source{.claims = place, .allocation = allocation, .waiters = waiters, .rows = *rows};
    write_table(out, context, inputs, *machine, std::move(source), watch_start);
  }
  out.flush();
  inputs.trace.mark("render");
  inputs.trace.print(context.err);
  return 0;
}

// --status --watch: the driver opened once, a frame every interval until the user quits.
int watch_status(const CommandContext& context, StatusInputs& inputs) {
  Services& services = inputs.services;
  if (!services.open_screen) {
    return report(Error{ErrorKind::internal, "--watch needs a terminal screen", {}}, context.err);
  }
  auto screen = services.open_screen(context.out);
  WatchStart watch_start = services.clock->now();
  for (;;) {
    std::ostringstream frame;
    if (int status = show_frame(context, inputs, frame, watch_start); status != 0) return status;
    screen->show(frame.str());
    if (!context.out) return 0;  // the reader went away (a closed pipe)
    if (screen->wait_until(services.clock->now() + *context.options.watch) == LiveEvent::quit) return 0;
  }
}

}  // namespace

int show_status(const CommandContext& context, StatusInputs& inputs) {
  if (context.options.watch) return watch_status(context, inputs);
  return show_frame(context, inputs, context.out, std::nullopt);
}

int show_dry_run(const CommandContext& context, const Round& round, const ClaimsPlace& place,
                 const Error* command_problem) {
  const Options& options = context.options;
  CudaEnvironment env = cuda_env_for(round, options, context.env);
  const CudaEnvironment* shown = round.decision.ok && !place.problem && !command_problem ? &env : nullptr;
  std::optional<Binding> binding;
  if (options.bind && round.decision.ok) {
    binding = plan_binding(round.machine, round.decision.chosen, context.env.allowed_cpus);
  }
  const Binding* plan = binding ? &*binding : nullptr;
  if (options.output == Output::json) {
    context.out << render_decision_json(round.machine, round.decision, round.selection, shown, options.command, plan,
                                        place, command_problem);
  } else {
    context.out << render_dry_run(round.machine, round.decision, shown, options.command, plan, place,
                                  command_problem);
  }
  context.out.flush();
  if (command_problem) return static_cast<int>(exit_code_for(command_problem->kind));
  if (!round.decision.ok) return static_cast<int>(ExitCode::no_suitable_gpu);
  return place.problem ? static_cast<int>(ExitCode::lock_dir) : 0;
}

int print_env(const CommandContext& context, const Round& round, const Given& given) {
  if (!round.decision.ok) return report(no_gpu_error(round, ErrorKind::no_suitable_gpu, "", given), context.err);
  CudaEnvironment env = cuda_env_for(round, context.options, context.env);
  context.out << "export CUDA_VISIBLE_DEVICES=" << env.visible_devices << "\n";
  if (env.device_order) context.out << "export CUDA_DEVICE_ORDER=" << *env.device_order << "\n";
  context.out.flush();
  if (!context.options.quiet) {
    context.err << "with-gpu: " << selection_summary(round.machine, round.decision, env, share_of_allocation(round, given))
                << " (not claimed: another launch may choose it too)\n";
  }
  return 0;
}

}  // namespace wg
