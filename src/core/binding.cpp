#include "core/binding.hpp"

#include <algorithm>

namespace wg {

Binding plan_binding(const Machine& machine, const std::vector<unsigned>& chosen, const std::optional<CpuSet>& allowed) {
  Binding binding;
  CpuSet local;
  for (unsigned index : chosen) {
    const Gpu& gpu = machine.gpus[index];
    if (!gpu.local_cpus) {
      binding.problem = "the driver does not report the CPUs local to GPU " + std::to_string(index);
      return binding;
    }
    local = local.united(*gpu.local_cpus);
    if (gpu.numa_node) binding.memory_nodes.push_back(*gpu.numa_node);
  }
  std::sort(binding.memory_nodes.begin(), binding.memory_nodes.end());
  binding.memory_nodes.erase(std::unique(binding.memory_nodes.begin(), binding.memory_nodes.end()),
                             binding.memory_nodes.end());
  binding.cpus = allowed ? local.intersection(*allowed) : local;
  if (binding.cpus.empty()) {
    binding.problem = "none of the CPUs local to the chosen GPUs (" + local.to_string() + ") is one with-gpu may use (" +
                      (allowed ? allowed->to_string() : std::string("?")) + ")";
  }
  return binding;
}

}  // namespace wg
