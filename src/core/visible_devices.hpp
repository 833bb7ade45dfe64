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
  bool named_by_uuid = false;     // some entry was a UUID (GPU- or MIG-)
};

// Where an allocation came from and what it allows, for reports (--status).
struct AllocationView {
  enum class Source { slurm, cuda_visible_devices } source = Source::cuda_visible_devices;
  std::optional<std::string> job_id;               // Slurm's
  std::optional<std::string> step_id;
  std::optional<unsigned> slurm_gpu_count;         // what Slurm says it gave
  std::optional<std::string> cuda_visible_devices; // the inherited value
  std::vector<unsigned> gpus;                      // NVML indices it allows
  std::string summary;                             // one line for people
};

// Reads the inherited CUDA_VISIBLE_DEVICES. Unset: no allocation (empty optional).
// Integers are positions among the GPUs this process can open, in PCI bus order: CUDA's
// ordinals under CUDA_DEVICE_ORDER=PCI_BUS_ID, which count no GPU a device cgroup denies
// (so a Slurm job given physical GPUs 2,3 sees 0,1); full or unique-prefix GPU- UUIDs name
// GPUs directly; MIG-<uuid> (or a unique prefix) and the pre-R470 MIG-GPU-<uuid>/<gi>/<ci>
// name a MIG instance, which must then be the value's only entry (CUDA uses only the first
// MIG device of a value). "" and "-1" allow no GPU (an empty allocation). Entries that name
// no device are usage errors.
Result<std::optional<Allocation>> read_allocation(const std::optional<std::string>& value,
                                                  const Machine& machine);

}  // namespace wg
