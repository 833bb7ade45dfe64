#pragma once
// CPUs and NUMA placement of this process: what it may run on, what the machine has,
// and pinning the command before exec (both survive execve).

#include <optional>
#include <string>
#include <vector>

#include "core/cpu_set.hpp"
#include "core/gpu.hpp"
#include "core/result.hpp"

namespace wg {

// The CPUs this process may run on (taskset, numactl, a cgroup cpuset all show here).
std::optional<CpuSet> allowed_cpus();

// The CPUs the machine has online (/sys/devices/system/cpu/online).
std::optional<CpuSet> online_cpus();

// Restricts this process (and the command it becomes) to `cpus`.
[[nodiscard]] Result<Ok> pin_to_cpus(const CpuSet& cpus);

// Fills numa_node and local_cpus that NVML left unknown from the GPU's PCI device in
// sysfs (`root` is /sys but for tests). A -1 node (no NUMA) stays unknown.
void fill_locality_from_sysfs(Machine& machine, const std::string& root = "/sys");

// "00000000:1A:00.0" (NVML) -> "0000:1a:00.0" (sysfs); empty when not a bus id.
std::optional<std::string> sysfs_bus_id(const std::string& nvml_bus_id);

}  // namespace wg
