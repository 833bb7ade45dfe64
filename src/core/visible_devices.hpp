#pragma once
// A CUDA_VISIBLE_DEVICES found on entry is an allocation (Slurm, a container, the
// user): only the GPUs it names are candidates.

#include <optional>
#include <string>
#include <vector>

#include "core/gpu.hpp"
#include "core/result.hpp"

namespace wg {

struct Allocation {
  std::vector<unsigned> indices;  // NVML indices, in the order the variable lists them
  bool named_by_uuid = false;     // some entry was a GPU- UUID
};

// Reads the inherited CUDA_VISIBLE_DEVICES. Unset: no allocation (empty optional).
// Integers are positions in PCI bus order (CUDA's order under
// CUDA_DEVICE_ORDER=PCI_BUS_ID, and Slurm's); full or unique-prefix GPU- UUIDs name
// GPUs directly. "" and "-1" allow no GPU (an empty allocation). MIG entries and
// entries that name no GPU are usage errors.
Result<std::optional<Allocation>> read_allocation(const std::optional<std::string>& value,
                                                  const Machine& machine);

}  // namespace wg
