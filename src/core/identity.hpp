#pragma once
// The GPU that was checked and claimed is the GPU the command gets: how the chosen
// GPUs are written into the command's CUDA_VISIBLE_DEVICES.

#include <optional>
#include <string>
#include <vector>

#include "core/gpu.hpp"

namespace wg {

enum class IdFormat { automatic, index, uuid };

// The caller's CUDA variables as found on entry.
struct CallerCudaEnv {
  std::optional<std::string> visible_devices;
  std::optional<std::string> device_order;
};

// What the command is given. `device_order` empty means: leave the caller's alone.
struct CudaEnvironment {
  std::string visible_devices;
  std::optional<std::string> device_order;
  IdFormat format = IdFormat::index;
};

// NVML indices of the GPUs this process can open, sorted by PCI bus id (then NVML
// index); a GPU's position in this list is its CUDA ordinal under
// CUDA_DEVICE_ORDER=PCI_BUS_ID, since CUDA counts no device it cannot open. MIG instances
// have no position and are not listed.
std::vector<unsigned> pci_order(const Machine& machine);

// The form `automatic` resolves to: UUIDs where positions could mislead (the caller
// chose another CUDA_DEVICE_ORDER, named GPUs by UUID, or some GPU is unreadable, has no
// PCI id, is not accessible to this process or is in MIG mode, so CUDA's count may differ
// from NVML's), else PCI-order positions.
IdFormat resolve_id_format(const Machine& machine, IdFormat requested, const CallerCudaEnv& caller,
                           bool allocation_named_by_uuid);

// Builds the variables for `chosen` (indices in Machine::gpus, in selection order). A MIG
// instance is always written as its MIG- UUID (the format is then uuid), as no position
// can name it.
CudaEnvironment cuda_environment(const Machine& machine, const std::vector<unsigned>& chosen,
                                 IdFormat format);

}  // namespace wg
