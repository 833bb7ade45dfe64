#include "core/gpu.hpp"

#include <algorithm>
#include <cstdint>

#include "core/text.hpp"

namespace wg {

namespace {

std::optional<MemoryFault> memory_fault(std::uint64_t total, std::uint64_t used, std::uint64_t free,
                                        std::uint64_t reserved) {
  if (free > total) return MemoryFault::free_above_total;
  if (used > total) return MemoryFault::used_above_total;
  if (reserved > total) return MemoryFault::reserved_above_total;
  if (free > total - used) return MemoryFault::sum_above_total;
  return std::nullopt;
}

}  // namespace

void set_memory(Gpu& gpu, std::uint64_t total, std::uint64_t used, std::uint64_t free,
                std::optional<std::uint64_t> reserved) {
  if (auto fault = memory_fault(total, used, free, reserved.value_or(0))) {
    gpu.impossible_memory = ImpossibleMemory{*fault, total, used, free, reserved.value_or(0)};
    return;
  }
  gpu.memory_total_bytes = total;
  gpu.memory_used_bytes = used;
  gpu.memory_free_bytes = free;
  gpu.memory_reserved_bytes = reserved;
}

std::optional<std::uint64_t> hidden_usage_bytes(const Gpu& gpu) {
  if (!gpu.usable() || !gpu.processes || !gpu.memory_used_bytes) return std::nullopt;
  std::uint64_t attributed = 0;
  for (const auto& process : *gpu.processes) {
    if (!process.used_memory_bytes) return std::nullopt;
    // Saturates: a driver's absurd per-process figure must not wrap the sum around.
    attributed += std::min(*process.used_memory_bytes, UINT64_MAX - attributed);
  }
  return *gpu.memory_used_bytes > attributed ? *gpu.memory_used_bytes - attributed : 0;
}

bool has_suspected_hidden_usage(const Gpu& gpu) {
  auto hidden = hidden_usage_bytes(gpu);
  return hidden && *hidden > kHiddenUsageAboveBytes;
}

std::optional<Reading> utilization_reading(const Gpu& gpu) {
  if (gpu.utilization_avg_percent) return Reading{*gpu.utilization_avg_percent, true};
  if (gpu.utilization_percent) return Reading{double(*gpu.utilization_percent), false};
  return std::nullopt;
}

std::optional<Reading> power_reading(const Gpu& gpu) {
  if (gpu.power_avg_w) return Reading{*gpu.power_avg_w, true};
  if (gpu.power_w) return Reading{*gpu.power_w, false};
  return std::nullopt;
}

bool is_idle(const Gpu& gpu) {
  return gpu.usable() && gpu.processes && gpu.processes->empty() && gpu.memory_used_bytes &&
         *gpu.memory_used_bytes < kIdleUsedBelowBytes;
}

std::optional<std::size_t> process_count(const Gpu& gpu) {
  if (!gpu.processes) return std::nullopt;
  return gpu.processes->size();
}

const ClaimHolder* blocking_holder(const Gpu& gpu, ClaimMode wanted) {
  for (const auto& holder : gpu.claims) {
    // Our own claim, inherited, keeps us out only when it is shared and we want the GPU alone.
    if (holder.inherited && !(wanted == ClaimMode::exclusive && holder.mode == ClaimMode::shared)) continue;
    if (wanted == ClaimMode::exclusive || holder.mode == ClaimMode::exclusive) return &holder;
  }
  return nullptr;
}

std::string describe_holder(const ClaimHolder& holder) {
  std::string text = holder.user.value_or("");
  if (holder.command) text += (text.empty() ? "" : ", ") + command_as_script(*holder.command);
  return text;
}

GpuLink link_between(const Machine& machine, unsigned a, unsigned b) {
  if (a >= machine.links.size() || b >= machine.links[a].size()) return {};
  return machine.links[a][b];
}

const char* pcie_label(PciePath path) {
  static const char* const kLabels[] = {"BRD", "PIX", "PXB", "PHB", "NODE", "SYS"};
  return kLabels[static_cast<int>(path)];
}

std::string link_label(const GpuLink& link) {
  if (link.nvlinks > 0) return "NV" + std::to_string(link.nvlinks);
  return link.pcie ? pcie_label(*link.pcie) : "?";
}

std::string device_label(const Gpu& gpu) {
  if (!gpu.mig) return "GPU " + std::to_string(gpu.index);
  std::string profile = gpu.mig->profile.empty() ? "" : gpu.mig->profile + " ";
  return "GPU " + std::to_string(gpu.mig->parent_index) + " MIG " + profile + "#" + std::to_string(gpu.mig->device);
}

std::string mig_profile_name(unsigned gpu_slices, unsigned compute_slices, std::uint64_t memory_mib) {
  std::string name = std::to_string(gpu_slices) + "g." + std::to_string((memory_mib + 1023) / 1024) + "gb";
  if (compute_slices != 0 && compute_slices != gpu_slices) name = std::to_string(compute_slices) + "c." + name;
  return name;
}

}  // namespace wg
