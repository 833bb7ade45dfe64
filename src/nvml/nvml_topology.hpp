#pragma once
// Topology as NVML reports it: each GPU's NUMA node and local CPUs, and how each pair
// of GPUs is connected (PCIe common ancestor, NVLinks). Anything the driver does not
// answer stays unknown; nothing here fails a query.

#include <vector>

#include "core/gpu.hpp"
#include "nvml/nvml_library.hpp"

namespace wg {

// Fills numa_node and local_cpus of each GPU with a device handle (null: unusable).
void read_locality(const NvmlApi& api, const std::vector<nvmlDevice_t>& devices, Machine& machine);

// Fills machine.links: one common-ancestor query per pair, NVLink states per GPU.
// `devices` are the whole GPUs' handles by NVML index: links join whole GPUs, never
// MIG instances, so links[a][b] is unknown wherever a or b is an instance.
void read_links(const NvmlApi& api, const std::vector<nvmlDevice_t>& devices, Machine& machine);

}  // namespace wg
