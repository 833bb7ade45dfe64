#include "output/status_json.hpp"

#include <ctime>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "output/claims_json.hpp"
#include "output/format.hpp"
#include "output/mig_json.hpp"

namespace wg {
namespace {

using nlohmann::json;

template <class T>
json nullable(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json mib_or_null(const std::optional<std::uint64_t>& bytes) { return bytes ? json(to_mib(*bytes)) : json(nullptr); }

json processes_json(const Gpu& gpu) {
  if (!gpu.processes) return nullptr;
  json list = json::array();
  for (const auto& process : *gpu.processes) {
    json used = process.used_memory_bytes ? json(to_mib(*process.used_memory_bytes)) : json(nullptr);
    list.push_back({{"pid", process.pid}, {"user", nullable(process.user)}, {"command", nullable(process.command)},
                    {"used_memory_mib", used}});
  }
  return list;
}

json claims_json(const Gpu& gpu) {
  json list = json::array();
  for (const auto& holder : gpu.claims) {
    list.push_back({{"pid", holder.pid > 0 ? json(holder.pid) : json(nullptr)},
                    {"mode", holder.mode == ClaimMode::exclusive ? "exclusive" : "shared"},
                    {"user", nullable(holder.user)},
                    {"command", nullable(holder.command)},
                    {"inherited", holder.inherited},
                    {"file_deleted", holder.file_deleted}});
  }
  return list;
}

const char* problem_name(LockFileProblem problem) {
  switch (problem) {
    case LockFileProblem::not_regular: return "not_regular";
    case LockFileProblem::no_access: return "no_access";
    case LockFileProblem::cannot_create: return "cannot_create";
    case LockFileProblem::linked: return "linked";
    case LockFileProblem::cannot_open: return "cannot_open";
  }
  return "not_regular";
}

const char* type_name(FileType type) {
  static const char* const kNames[] = {"regular", "directory", "symlink", "fifo", "socket", "device", "other"};
  return kNames[static_cast<int>(type)];
}

}  // namespace

json lock_problem_json(const Gpu& gpu) {
  if (!gpu.lock_problem) return nullptr;
  const LockProblem& problem = *gpu.lock_problem;
  return {{"kind", problem_name(problem.kind)}, {"path", problem.path}, {"type", type_name(problem.type)},
          {"owner", nullable(problem.owner)}, {"mode", problem.mode}, {"message", describe_lock_problem(problem)}};
}

json claims_place_json(const ClaimsPlace& place) {
  return {{"path", place.path}, {"hardened", place.hardened}, {"problem", nullable(place.problem)}};
}

namespace {

// This GPU's link to every other GPU; empty when topology was not read.
json links_json(const Machine& machine, const Gpu& gpu) {
  json list = json::array();
  if (machine.links.empty() || gpu.mig) return list;
  for (const auto& other : machine.gpus) {
    if (other.index == gpu.index || other.mig) continue;  // links join whole GPUs
    GpuLink link = link_between(machine, gpu.index, other.index);
    const char* pcie = link.pcie ? pcie_label(*link.pcie) : nullptr;
    list.push_back({{"gpu", other.index},
                    {"label", link.nvlinks || pcie ? json(link_label(link)) : json(nullptr)},
                    {"nvlinks", link.nvlinks},
                    {"pcie", pcie ? json(pcie) : json(nullptr)}});
  }
  return list;
}

json allocation_json(const std::optional<AllocationView>& allocation) {
  if (!allocation) return nullptr;
  return {{"source", allocation->source == AllocationView::Source::slurm ? "slurm" : "cuda_visible_devices"},
          {"job_id", nullable(allocation->job_id)},
          {"step_id", nullable(allocation->step_id)},
          {"slurm_gpu_count", nullable(allocation->slurm_gpu_count)},
          {"cuda_visible_devices", nullable(allocation->cuda_visible_devices)},
          {"gpus", allocation->gpus},
          {"summary", allocation->summary}};
}

// Every key is present for every GPU; what NVML could not read is null.
json decimals(const std::optional<double>& value, int places) {
  return value ? json(rounded(*value, places)) : json(nullptr);
}

json gpu_json(const Machine& machine, const Gpu& gpu, const std::optional<AllocationView>& allocation,
              json instances) {
  bool ok = gpu.usable();
  auto count = process_count(gpu);
  auto hidden = hidden_usage_bytes(gpu);
  return {{"index", gpu.index},
          {"uuid", gpu.uuid.empty() ? json(nullptr) : json(gpu.uuid)},
          {"name", gpu.name.empty() ? json(nullptr) : json(gpu.name)},
          {"pci_bus_id", nullable(gpu.pci_bus_id)},
          {"usable", ok},
          {"error", nullable(gpu.error)},
          {"accessible", gpu.accessible()},
          {"in_allocation", !allocation || std::find(allocation->gpus.begin(), allocation->gpus.end(), gpu.index) !=
                                                allocation->gpus.end()},
          {"memory_total_mib", mib_or_null(gpu.memory_total_bytes)},
          {"memory_used_mib", mib_or_null(gpu.memory_used_bytes)},
          {"memory_free_mib", mib_or_null(gpu.memory_free_bytes)},
          {"memory_reserved_mib", mib_or_null(gpu.memory_reserved_bytes)},
          {"utilization_percent", nullable(gpu.utilization_percent)},
          {"utilization_avg_percent", decimals(gpu.utilization_avg_percent, 1)},
          {"temperature_c", nullable(gpu.temperature_c)},
          {"power_w", decimals(gpu.power_w, 3)},
          {"power_avg_w", decimals(gpu.power_avg_w, 1)},
          {"power_limit_w", decimals(gpu.power_limit_w, 3)},
          {"process_count", nullable(count)},
          {"processes", processes_json(gpu)},
          {"is_idle", is_idle(gpu)},
          {"hidden_usage_mib", hidden ? json(to_mib(*hidden)) : json(nullptr)},
          {"claims", claims_json(gpu)},
          {"lock_problem", lock_problem_json(gpu)},
          {"numa_node", nullable(gpu.numa_node)},
          {"local_cpus", gpu.local_cpus ? json(gpu.local_cpus->to_string()) : json(nullptr)},
          {"links", links_json(machine, gpu)},
          {"mig_mode", mig_mode_json(gpu)},
          {"mig", mig_json(gpu)},
          {"mig_instances", std::move(instances)}};
}

bool listed(const StatusContext& context, unsigned index) {
  return !context.rows || std::find(context.rows->begin(), context.rows->end(), index) != context.rows->end();
}

// Whole GPUs, each with its MIG instances nested: an instance listed by --gpu brings its
// parent along, which then holds only the instances listed; a listed parent holds all.
json gpus_json(const Machine& machine, const StatusContext& context) {
  json gpus = json::array();
  for (const auto& gpu : machine.gpus) {
    if (gpu.mig) continue;
    bool whole = listed(context, gpu.index);
    json instances = json::array();
    for (const auto& instance : machine.gpus) {
      if (!instance.mig || instance.mig->parent_index != gpu.index) continue;
      if (whole || listed(context, instance.index)) {
        instances.push_back(gpu_json(machine, instance, context.allocation, json::array()));
      }
    }
    if (whole || !instances.empty()) gpus.push_back(gpu_json(machine, gpu, context.allocation, std::move(instances)));
  }
  return gpus;
}

// The wall clock in ns as ISO 8601 UTC, to the second.
std::string iso_time(std::int64_t ns) {
  std::time_t seconds = static_cast<std::time_t>(ns / 1'000'000'000);
  char stamp[32] = {};
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return stamp;
}

json waiters_json(const std::vector<Ticket>& waiters, std::int64_t now_ns) {
  json out = json::array();
  unsigned place = 0;
  for (const auto& ticket : waiters) {
    double waited = double(std::max<std::int64_t>(0, now_ns - ticket.arrival_ns) / 1'000'000) / 1000.0;
    out.push_back({{"place", ++place},
                   {"pid", ticket.pid},
                   {"user", ticket.user},
                   {"command", ticket.command},
                   {"gpus_needed", ticket.needed},
                   {"claim", ticket.mode == ClaimMode::shared ? "shared" : "exclusive"},
                   {"usable_gpus", ticket.usable},
                   {"stopped", ticket.stopped},
                   {"since", iso_time(ticket.arrival_ns)},
                   {"waited_s", waited}});
  }
  return out;
}

}  // namespace

std::string render_status_json(const Machine& machine, const StatusContext& context) {
  json gpus = gpus_json(machine, context);
  json cuda = machine.cuda_driver_version ? json(cuda_version_text(*machine.cuda_driver_version)) : json(nullptr);
  json out = {{"schema_version", kStatusSchemaVersion}, {"hostname", context.hostname},
              {"timestamp", context.timestamp}, {"driver_version", nullable(machine.driver_version)},
              {"nvml_version", nullable(machine.nvml_version)}, {"cuda_driver_version", cuda},
              {"lock_dir", claims_place_json(context.claims)}, {"allocation", allocation_json(context.allocation)},
              {"gpus", gpus}, {"waiters", waiters_json(context.waiters, context.now_ns)}};
  // Defence in depth: text that is not UTF-8 is replaced, never a crash.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace wg
