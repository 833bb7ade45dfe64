#include "output/status_table.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <chrono>
#include <vector>

#include "core/text.hpp"
#include "output/format.hpp"
#include "output/wait_report.hpp"

namespace wg {
namespace {

// Long command lines would push the table off the screen.
std::string shorten(const std::string& text, std::size_t limit) {
  return text.size() <= limit ? text : text.substr(0, limit - 3) + "...";
}

std::string cuda_version(int version) { return fmt::format("{}.{}", version / 1000, (version % 1000) / 10); }

std::string claims_line(const ClaimsPlace& place) {
  if (place.path.empty()) return "claims: not read";
  if (place.problem) return "claims: " + place.path + " cannot be used: " + *place.problem;
  if (place.hardened) return "claims: " + place.path + " (hardened: root's, users cannot delete or plant lock files)";
  return "claims: " + place.path + " (shared, like /tmp: whoever creates a lock file can delete it; see --init-lock-dir)";
}

std::string header(const Machine& machine, const StatusSource& source) {
  std::string line = fmt::format("{} GPU{}", machine.gpus.size(), machine.gpus.size() == 1 ? "" : "s");
  line += " · driver " + machine.driver_version.value_or("n/a");
  if (machine.cuda_driver_version) line += " · CUDA " + cuda_version(*machine.cuda_driver_version);
  line += fmt::format(" · util and power: {:.1f}s averages", double(source.sample_window_ms) / 1000);
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

// A '*' marks an instantaneous figure where the driver keeps no samples to average.
std::string util_cell(const Gpu& gpu) {
  auto util = utilization_reading(gpu);
  return util ? fmt::format("{:.0f}%{}", util->value, util->averaged ? "" : "*") : "n/a";
}

std::string power_cell(const Gpu& gpu) {
  auto power = power_reading(gpu);
  if (!power && !gpu.power_limit_w) return "n/a";
  std::string draw = power ? fmt::format("{:.0f}{}", power->value, power->averaged ? "" : "*") : "n/a";
  return fmt::format("{} / {} W", draw, gpu.power_limit_w ? fmt::format("{:.0f}", *gpu.power_limit_w) : "n/a");
}

bool has_instant_reading(const Machine& machine) {
  for (const auto& gpu : machine.gpus) {
    auto util = utilization_reading(gpu);
    auto power = power_reading(gpu);
    if (gpu.usable() && ((util && !util->averaged) || (power && !power->averaged))) return true;
  }
  return false;
}

std::string note(const Gpu& gpu) {
  if (!gpu.usable()) return {};
  if (gpu.impossible_memory) return describe_impossible_memory(*gpu.impossible_memory);
  if (has_suspected_hidden_usage(gpu)) {
    return fmt::format("suspected hidden usage: {}", format_bytes(*hidden_usage_bytes(gpu)));
  }
  if (!gpu.processes) return "process list not available";
  return {};
}

// Who is using the GPU, as gpustat shows it: "31337  alice  19456 MiB  python train.py".
std::string process_lines(const Gpu& gpu, std::size_t indent) {
  if (!gpu.processes) return {};
  std::string out;
  for (const auto& process : *gpu.processes) {
    std::string memory = process.used_memory_bytes ? fmt::format("{} MiB", to_mib(*process.used_memory_bytes)) : "n/a";
    std::string line = fmt::format("{:{}}{:>7}  {:<10}  {:>9}  {}", "", indent, process.pid,
                                   shorten(process.user.value_or("?"), 10), memory,
                                   shorten(process.command.value_or("?"), 60));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

Color state_color(const Gpu& gpu) {
  if (!gpu.accessible()) return Color::dim;
  if (!gpu.usable()) return Color::red;
  if (!gpu.claims.empty()) return Color::magenta;
  return is_idle(gpu) ? Color::green : Color::yellow;
}

using Row = std::vector<std::string>;

Row row_of(const Gpu& gpu) {
  if (!gpu.usable()) return {std::to_string(gpu.index), gpu.name.empty() ? "n/a" : gpu.name, "", "", "", "", "", "", ""};
  auto count = process_count(gpu);
  return {std::to_string(gpu.index), gpu.name, memory_cell(gpu), util_cell(gpu), or_na(gpu.temperature_c, "C"),
          power_cell(gpu), count ? std::to_string(*count) : "n/a", (gpu.numa_node ? std::to_string(*gpu.numa_node) : "n/a"),
          gpu.local_cpus ? gpu.local_cpus->to_string() : "n/a"};
}

}  // namespace

std::string gpu_state(const Gpu& gpu) {
  if (!gpu.accessible()) return "NO ACCESS: " + describe_no_access(gpu);
  if (!gpu.usable()) return "UNUSABLE: " + *gpu.error;
  if (gpu.lock_problem) return "UNAVAILABLE: " + describe_lock_problem(*gpu.lock_problem);
  if (gpu.claims.empty()) return is_idle(gpu) ? "IDLE" : "USED";
  bool exclusive = gpu.claims.front().mode == ClaimMode::exclusive;
  std::string holders;
  for (const auto& holder : gpu.claims) {
    if (!holders.empty()) holders += ", ";
    holders += holder.pid > 0 ? fmt::format("pid {}", holder.pid) : "a process with-gpu cannot see";
    std::string who = describe_holder(holder);
    if (!who.empty()) holders += " (" + shorten(who, 40) + ")";
    if (holder.file_deleted) holders += " [through a deleted lock file]";
    if (holder.inherited) holders += " [inherited: this process's own]";
  }
  return (exclusive ? "CLAIMED by " : "SHARED by ") + holders;
}

std::string render_status_table(const Machine& machine, const StatusSource& source, const Style& style) {
  std::vector<Row> rows = {{"GPU", "NAME", "MEMORY USED / TOTAL", "UTIL", "TEMP", "POWER", "PROCS", "NUMA", "CPUS"}};
  std::vector<const Gpu*> shown;
  for (const auto& gpu : machine.gpus) {
    if (source.rows && std::find(source.rows->begin(), source.rows->end(), gpu.index) == source.rows->end()) continue;
    shown.push_back(&gpu);
    rows.push_back(row_of(gpu));
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out = header(machine, source);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (std::size_t i = 0; i < rows[r].size(); ++i) {
      bool right = i == 0 || (i >= 3 && i <= 7);  // numbers right-aligned, names and CPU lists left
      line += right ? fmt::format("{:>{}}  ", rows[r][i], widths[i]) : fmt::format("{:<{}}  ", rows[r][i], widths[i]);
    }
    if (r == 0) {
      out += style.paint(line + "STATE", Color::bold) + "\n";
      continue;
    }
    const Gpu& gpu = *shown[r - 1];
    std::string extra = note(gpu);
    bool outside = source.allocation && std::find(source.allocation->gpus.begin(), source.allocation->gpus.end(),
                                                  gpu.index) == source.allocation->gpus.end();
    out += line + (outside ? "OUTSIDE ALLOCATION · " : "") + style.paint(gpu_state(gpu), state_color(gpu)) +
           (extra.empty() ? "" : "  (" + extra + ")") + "\n";
    out += process_lines(gpu, widths[0] + 2);
  }
  if (has_instant_reading(machine)) out += "* instantaneous: the driver keeps no samples to average for this GPU\n";
  return out + render_waiters(source.waiters, source.now_ns);
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
