#include "output/status_table.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>
#include <vector>

#include "core/text.hpp"
#include "output/format.hpp"
#include "output/table.hpp"
#include "output/wait_report.hpp"

namespace wg {
namespace {

// Long command lines would push the table off the screen.
std::string shorten(const std::string& text, std::size_t limit) {
  return text.size() <= limit ? text : text.substr(0, limit - 3) + "...";
}

std::string claims_line(const ClaimsPlace& place) {
  if (place.path.empty()) return "claims: not read";
  if (place.problem) return "claims: " + place.path + " cannot be used: " + *place.problem;
  if (place.hardened) return "claims: " + place.path + " (hardened: root's, users cannot delete or plant lock files)";
  return "claims: " + place.path + " (shared, like /tmp: whoever creates a lock file can delete it; see --init-lock-dir)";
}

// Which kinds of utilization and power readings the usable GPUs have: averages over the
// window, instantaneous ones (where the driver keeps no samples), or both.
struct ReadingKinds {
  bool averaged = false;
  bool instant = false;
  bool mixed() const { return averaged && instant; }  // then '*' marks the instantaneous ones
};

ReadingKinds reading_kinds(const Machine& machine) {
  ReadingKinds kinds;
  for (const auto& gpu : machine.gpus) {
    for (auto reading : {utilization_reading(gpu), power_reading(gpu)}) {
      if (gpu.usable() && reading) (reading->averaged ? kinds.averaged : kinds.instant) = true;
    }
  }
  return kinds;
}

// What the UTIL and POWER columns hold, for the header.
std::string readings_note(const ReadingKinds& kinds, const StatusSource& source) {
  if (kinds.instant && !kinds.averaged) return " · util and power: instantaneous";
  return fmt::format(" · util and power: {:.1f}s averages", double(source.sample_window_ms) / 1000);
}

std::string header(const Machine& machine, const StatusSource& source, const ReadingKinds& kinds) {
  std::string line = source.hostname.empty() ? "" : source.hostname + " · ";
  if (!source.time_of_day.empty()) line += source.time_of_day + " · ";
  auto instances = std::size_t(
      std::count_if(machine.gpus.begin(), machine.gpus.end(), [](const Gpu& gpu) { return gpu.mig.has_value(); }));
  std::size_t whole = machine.gpus.size() - instances;
  line += fmt::format("{} GPU{}", whole, whole == 1 ? "" : "s");
  if (instances > 0) line += fmt::format(" · {} MIG instance{}", instances, instances == 1 ? "" : "s");
  line += " · driver " + machine.driver_version.value_or("n/a");
  if (machine.cuda_driver_version) line += " · CUDA " + cuda_version_text(*machine.cuda_driver_version);
  line += readings_note(kinds, source);
  if (source.overridden) line += " · NVML from " + source.nvml_library + " (WITH_GPU_NVML_LIBRARY)";
  line += '\n';
  line += claims_line(source.claims);
  line += '\n';
  if (source.allocation) line += "allocation: " + source.allocation->summary + "\n";
  return line;
}

std::string memory_cell(const Gpu& gpu) {
  if (!gpu.memory_used_bytes || !gpu.memory_total_bytes) return "n/a";
  std::uint64_t used = *gpu.memory_used_bytes;
  std::uint64_t total = *gpu.memory_total_bytes;
  unsigned percent = total ? unsigned(100.0 * double(used) / double(total) + 0.5) : 0;
  return fmt::format("{} / {} MiB ({}%)", to_mib(used), to_mib(total), percent);
}

// A '*' marks an instantaneous figure where the driver keeps no samples to average, when
// the table also shows averages (`mark`); the header says which when all are alike.
std::string util_cell(const Gpu& gpu, bool mark) {
  auto util = utilization_reading(gpu);
  return util ? fmt::format("{:.0f}%{}", util->value, util->averaged || !mark ? "" : "*") : "n/a";
}

std::string power_cell(const Gpu& gpu, bool mark) {
  auto power = power_reading(gpu);
  if (!power && !gpu.power_limit_w) return "n/a";
  std::string draw = power ? fmt::format("{:.0f}{}", power->value, power->averaged || !mark ? "" : "*") : "n/a";
  return fmt::format("{} / {} W", draw, gpu.power_limit_w ? fmt::format("{:.0f}", *gpu.power_limit_w) : "n/a");
}

std::string note(const Gpu& gpu) {
  if (!gpu.usable()) return {};
  if (gpu.impossible_memory) return describe_impossible_memory(*gpu.impossible_memory);
  if (gpu.split_by_mig()) return {};  // its memory and processes are its instances'
  if (has_suspected_hidden_usage(gpu)) {
    return fmt::format("suspected hidden usage: {}", format_bytes(*hidden_usage_bytes(gpu)));
  }
  if (!gpu.processes) return "process list not available";
  return {};
}

// Who is using the GPU, one compact line each, as gpustat shows it:
// "alice/python train.py (19456 MiB, pid 31337)".
std::string process_lines(const Gpu& gpu, std::size_t indent, std::size_t columns) {
  if (!gpu.processes) return {};
  std::string out;
  for (const auto& process : *gpu.processes) {
    std::string memory = process.used_memory_bytes ? fmt::format("{} MiB", to_mib(*process.used_memory_bytes)) : "n/a";
    std::string line = fmt::format("{:{}}pid {} ({})", "", indent, process.pid, memory);  // not visible from here
    if (process.user || process.command) {
      line = fmt::format("{:{}}{}/{} ({}, pid {})", "", indent, process.user.value_or("?"),
                         process.command ? command_as_script(*process.command) : "?", memory, process.pid);
    }
    out += fit_columns(line, columns) + "\n";
  }
  return out;
}

std::optional<Color> state_color(const Gpu& gpu) {
  if (!gpu.accessible()) return Color::dim;
  if (!gpu.usable()) return Color::red;
  if (!gpu.claims.empty()) return Color::magenta;
  if (gpu.split_by_mig()) return std::nullopt;  // a heading for its instances, which have colours of their own
  return is_idle(gpu) ? Color::green : Color::yellow;
}

using Row = TableRow;

enum Column : std::size_t { kIndex, kName, kMemory, kUtil, kTemp, kPower, kProcs, kNuma, kCpus, kColumnCount };
constexpr const char* kTitles[] = {"GPU", "NAME", "MEMORY USED / TOTAL", "UTIL", "TEMP", "POWER", "PROCS", "NUMA", "CPUS"};
// What goes first when the terminal is narrow: the least useful columns.
constexpr Column kDropOrder[] = {kCpus, kNuma, kProcs, kPower, kTemp};

Row row_of(const Gpu& gpu, bool mark_instant) {
  if (!gpu.usable()) return {std::to_string(gpu.index), gpu.name.empty() ? "n/a" : gpu.name, "", "", "", "", "", "", ""};
  auto count = process_count(gpu);
  return {std::to_string(gpu.index), gpu.name, memory_cell(gpu), util_cell(gpu, mark_instant),
          or_na(gpu.temperature_c, "C"), power_cell(gpu, mark_instant), count ? std::to_string(*count) : "n/a", (gpu.numa_node ? std::to_string(*gpu.numa_node) : "n/a"),
          gpu.local_cpus ? gpu.local_cpus->to_string() : "n/a"};
}

// A MIG instance's row, under its parent's: the tree mark and what nvidia-smi's MIG section
// shows (profile, GI, CI), its own memory and processes; utilization is not reported per
// instance, and temperature and power are the parent's, on the parent's row.
Row instance_row(const Gpu& gpu, bool last) {
  const MigInstance& mig = *gpu.mig;
  std::string name = fmt::format("{} MIG {} #{} (GI {} CI {})", last ? "└" : "├", mig.profile, mig.device,
                                 mig.gpu_instance_id, mig.compute_instance_id);
  if (!gpu.usable()) return {"", name, "", "", "", "", "", "", ""};
  auto count = process_count(gpu);
  return {"", name, memory_cell(gpu), "n/a", "", "", count ? std::to_string(*count) : "n/a", "", ""};
}

// A GPU in MIG mode: its utilization and processes are its instances', on their rows.
Row split_row(const Gpu& gpu, bool mark_instant) {
  Row row = row_of(gpu, mark_instant);
  if (gpu.usable()) row[kUtil] = row[kProcs] = "";
  return row;
}

// "MIG pending: enable after reset" when a change of MIG mode waits for a GPU reset.
std::string mig_pending(const Gpu& gpu) {
  if (!gpu.mig_modes || gpu.mig_modes->pending == gpu.mig_modes->current) return {};
  return gpu.mig_modes->pending == MigMode::enabled ? "MIG pending: enable after reset"
                                                    : "MIG pending: disable after reset";
}

// A GPU in MIG mode is not used whole: its state says how many instances it holds (each
// has its row), then any claim on the GPU itself and a pending change of mode.
std::string row_state(const Gpu& gpu, std::size_t instances) {
  std::string state = gpu_state(gpu);
  if (gpu.split_by_mig() && gpu.usable() && gpu.accessible()) {
    std::string mig = instances == 0 ? "MIG: no instances"
                                     : fmt::format("MIG: {} instance{}", instances, instances == 1 ? "" : "s");
    state = gpu.claims.empty() ? mig : mig + " · " + state;
  }
  std::string pending = mig_pending(gpu);
  return pending.empty() ? state : state + " · " + pending;
}

// Temperatures people watch for without a --max-temp: where GPUs start to slow down.
constexpr unsigned kHotC = 85;
constexpr unsigned kWarmC = 75;

// The colour of a reading that fails a threshold in force (the default free-memory floor
// included), or that is hot; none when it passes.
std::optional<Color> reading_color(const Gpu& gpu, Column column, const SelectionOptions& limits) {
  auto red_if = [](bool failed) { return failed ? std::optional<Color>(Color::red) : std::nullopt; };
  switch (column) {
    case kMemory:
      return red_if(limits.min_free_bytes > 0 && gpu.memory_free_bytes && *gpu.memory_free_bytes < limits.min_free_bytes);
    case kUtil: {
      auto util = utilization_reading(gpu);
      return red_if(util && limits.max_util_percent && util->value > *limits.max_util_percent);
    }
    case kTemp:
      if (!gpu.temperature_c) return std::nullopt;
      if (limits.max_temp_c) return red_if(*gpu.temperature_c > *limits.max_temp_c);
      if (*gpu.temperature_c >= kHotC) return Color::red;
      return *gpu.temperature_c >= kWarmC ? std::optional<Color>(Color::yellow) : std::nullopt;
    case kPower: {
      auto power = power_reading(gpu);
      if (!power) return std::nullopt;
      std::optional<double> limit = limits.max_power_w;
      if (limits.max_power_fraction && gpu.power_limit_w) limit = *limits.max_power_fraction * *gpu.power_limit_w;
      return red_if(limit && power->value > *limit);
    }
    default:
      return std::nullopt;
  }
}

// A column says something on this machine when its known values differ (one NUMA node,
// or the same CPUs for every GPU, say nothing).
bool informative(const std::vector<Row>& rows, Column column) {
  std::string first;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const std::string& value = rows[r][column];
    if (value.empty() || value == "n/a") continue;
    if (first.empty()) first = value;
    if (value != first) return true;
  }
  return false;
}

// "NVIDIA GeForce RTX 3090" -> "RTX 3090", "└ MIG 2g.20gb #2 (GI 6 CI 0)" -> "└ MIG 2g.20gb #2",
// for narrow terminals.
std::string short_name(std::string name) {
  for (const char* prefix : {"NVIDIA ", "GeForce "}) {
    if (name.rfind(prefix, 0) == 0) name.erase(0, std::strlen(prefix));
  }
  if (auto ids = name.find(" (GI "); ids != std::string::npos) name.erase(ids);
  return name;
}


struct Layout {
  std::vector<bool> shown;
  std::vector<std::size_t> widths;
  std::size_t width = 0;  // of the columns shown, separators included
};

Layout layout_of(const std::vector<Row>& rows, const std::vector<bool>& shown) {
  Layout layout{shown, column_widths(rows), 0};
  for (std::size_t i = 0; i < kColumnCount; ++i) layout.width += shown[i] ? layout.widths[i] + kColumnGap : 0;
  return layout;
}

// The columns to show: those that say something, then as many as the terminal allows
// with room for the state (at least its first word), names shortened before that.
Layout fit_layout(std::vector<Row>& rows, std::size_t columns) {
  std::vector<bool> shown(kColumnCount, true);
  shown[kNuma] = informative(rows, kNuma);
  shown[kCpus] = informative(rows, kCpus);
  Layout layout = layout_of(rows, shown);
  constexpr std::size_t kStateRoom = 24;
  if (columns == 0) return layout;
  for (Column column : kDropOrder) {
    if (layout.width + kStateRoom <= columns) return layout;
    if (column == kTemp) {  // before the temperature goes, the names get shorter
      for (std::size_t r = 1; r < rows.size(); ++r) rows[r][kName] = short_name(rows[r][kName]);
      layout = layout_of(rows, shown);
      if (layout.width + kStateRoom <= columns) return layout;
    }
    shown[column] = false;
    layout = layout_of(rows, shown);
  }
  return layout;
}

}  // namespace

std::string gpu_state(const Gpu& gpu) {
  if (!gpu.accessible()) return "NO ACCESS: " + describe_no_access(gpu);
  if (!gpu.usable()) return "UNUSABLE: " + *gpu.error;
  if (gpu.lock_problem) return "UNAVAILABLE: " + describe_lock_problem(*gpu.lock_problem);
  if (gpu.claims.empty()) return is_idle(gpu) ? "IDLE" : "USED";
  bool exclusive = gpu.claims.front().mode == ClaimMode::exclusive;
  std::vector<std::string> holders;
  for (const auto& holder : gpu.claims) {
    std::string text = holder.pid > 0 ? fmt::format("pid {}", holder.pid) : "a process with-gpu cannot see";
    std::string who = describe_holder(holder);
    if (!who.empty()) text += " (" + shorten(who, 40) + ")";
    if (holder.file_deleted) text += " [through a deleted lock file]";
    if (holder.inherited) text += " [inherited: this process's own]";
    holders.push_back(std::move(text));
  }
  return fmt::format("{}{}", exclusive ? "CLAIMED by " : "SHARED by ", fmt::join(holders, ", "));
}

namespace {

bool listed(const StatusSource& source, unsigned index) {
  return !source.rows || std::find(source.rows->begin(), source.rows->end(), index) != source.rows->end();
}

// A line of the table: a GPU, or a MIG instance under its parent.
struct Shown {
  const Gpu* gpu = nullptr;
  std::size_t instances = 0;  // a GPU's MIG instances on the machine
  bool last = false;          // an instance: the last shown of its parent's
};

// Whole GPUs in index order, each followed by its MIG instances. --gpu naming an instance
// shows its parent's row too, as the context it is read in, with only the instances
// named; naming the parent shows all of them.
std::vector<Shown> shown_rows(const Machine& machine, const StatusSource& source) {
  std::vector<Shown> shown;
  for (const auto& gpu : machine.gpus) {
    if (gpu.mig) continue;
    std::vector<Shown> instances;
    std::size_t count = 0;
    for (const auto& instance : machine.gpus) {
      if (!instance.mig || instance.mig->parent_index != gpu.index) continue;
      ++count;
      if (listed(source, gpu.index) || listed(source, instance.index)) instances.push_back({&instance, 0, false});
    }
    if (!listed(source, gpu.index) && instances.empty()) continue;
    if (!instances.empty()) instances.back().last = true;
    shown.push_back({&gpu, count, false});
    shown.insert(shown.end(), instances.begin(), instances.end());
  }
  return shown;
}

}  // namespace

std::string render_status_table(const Machine& machine, const StatusSource& source, const Style& style) {
  std::vector<Row> rows = {Row(std::begin(kTitles), std::end(kTitles))};
  ReadingKinds kinds = reading_kinds(machine);  // once: every row and the header depend on it
  std::vector<Shown> shown = shown_rows(machine, source);
  for (const Shown& each : shown) {
    const Gpu& gpu = *each.gpu;
    rows.push_back(gpu.mig ? instance_row(gpu, each.last)
                           : gpu.split_by_mig() ? split_row(gpu, kinds.mixed()) : row_of(gpu, kinds.mixed()));
  }
  Layout layout = fit_layout(rows, source.columns);
  std::string out = header(machine, source, kinds);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (std::size_t i = 0; i < kColumnCount; ++i) {
      if (!layout.shown[i]) continue;
      bool right = i == kIndex || (i >= kUtil && i <= kNuma);  // numbers right-aligned; names, memory, CPUs left
      std::string cell = rows[r][i];
      if (r > 0 && source.thresholds && shown[r - 1].gpu->usable() && !cell.empty()) {
        if (auto color = reading_color(*shown[r - 1].gpu, Column(i), *source.thresholds)) {
          cell = style.paint(cell, *color);
        }
      }
      line += pad(cell, layout.widths[i], right ? Align::right : Align::left) + std::string(kColumnGap, ' ');
    }
    if (r == 0) {
      out += style.paint(line + "STATE", Color::bold) + "\n";
      continue;
    }
    const Gpu& gpu = *shown[r - 1].gpu;
    std::string extra = note(gpu);
    bool outside = source.allocation && std::find(source.allocation->gpus.begin(), source.allocation->gpus.end(),
                                                  gpu.index) == source.allocation->gpus.end();
    std::string state = fit_columns((outside ? "OUTSIDE ALLOCATION · " : "") + row_state(gpu, shown[r - 1].instances) +
                                        (extra.empty() ? "" : "  (" + extra + ")"),
                                    source.columns > layout.width ? source.columns - layout.width : 0);
    auto color = state_color(gpu);
    out += line + (color ? style.paint(state, *color) : state) + "\n";
    if (gpu.split_by_mig()) continue;  // its processes are listed under its instances
    std::size_t indent = layout.widths[kIndex] + kColumnGap + (gpu.mig ? 2 : 0);  // under the instance's profile
    out += process_lines(gpu, indent, source.columns);
  }
  if (kinds.mixed()) out += "* instantaneous: the driver keeps no samples to average for this GPU\n";
  out += render_waiters(source.waiters, source.now_ns);
  return fit_lines(out, source.columns);  // every line within the width, the titles and narrow terminals included
}


std::string render_waiters(const std::vector<Ticket>& waiters, std::int64_t now_ns) {
  if (waiters.empty()) return "";
  std::string out = fmt::format("waiting: {} launch{} in line\n", waiters.size(), waiters.size() == 1 ? "" : "es");
  unsigned place = 0;
  for (const auto& ticket : waiters) {
    auto waited = std::chrono::milliseconds(std::max<std::int64_t>(0, now_ns - ticket.arrival_ns) / 1'000'000);
    std::string gpus = ticket.stopped          ? "stopped: keeps nothing"
                       : ticket.usable.empty() ? "none usable now"
                                               : "of GPU " + join_numbers(ticket.usable, ",");
    out += fmt::format("  {:<4} pid {:<7} {:<10} {} GPU{}{} ({})  for {}  {}\n", ordinal(++place), ticket.pid,
                       printable(ticket.user), ticket.needed, ticket.needed == 1 ? "" : "s",
                       ticket.mode == ClaimMode::shared ? " shared" : "", gpus, format_elapsed(waited),
                       printable(ticket.command));
  }
  return out;
}

}  // namespace wg
