#include "core/gpu.hpp"

namespace wg {

std::optional<std::uint64_t> hidden_usage_bytes(const Gpu& gpu) {
  if (!gpu.usable() || !gpu.processes) return std::nullopt;
  std::uint64_t attributed = 0;
  for (const auto& process : *gpu.processes) {
    if (!process.used_memory_bytes) return std::nullopt;
    attributed += *process.used_memory_bytes;
  }
  return gpu.memory_used_bytes > attributed ? gpu.memory_used_bytes - attributed : 0;
}

bool has_suspected_hidden_usage(const Gpu& gpu) {
  auto hidden = hidden_usage_bytes(gpu);
  return hidden && *hidden > kHiddenUsageAboveBytes;
}

bool is_idle(const Gpu& gpu) {
  return gpu.usable() && gpu.processes && gpu.processes->empty() &&
         gpu.memory_used_bytes < kIdleUsedBelowBytes;
}

std::optional<std::size_t> process_count(const Gpu& gpu) {
  if (!gpu.processes) return std::nullopt;
  return gpu.processes->size();
}

bool claimed_by_other(const Gpu& gpu, int self_pid) {
  for (const auto& holder : gpu.claims) {
    if (holder.pid != self_pid) return true;
  }
  return false;
}

}  // namespace wg
