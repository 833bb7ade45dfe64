#include "core/identity.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "core/text.hpp"

namespace wg {

std::vector<unsigned> pci_order(const Machine& machine) {
  std::vector<const Gpu*> gpus;
  for (const auto& gpu : machine.gpus) {
    // MIG instances have no position: CUDA ordinals count GPUs.
    if (gpu.accessible() && !gpu.mig) gpus.push_back(&gpu);
  }
  std::stable_sort(gpus.begin(), gpus.end(), [](const Gpu* a, const Gpu* b) {
    // PCI ids are fixed-width lowercase hex, so text order is bus order. A GPU
    // without one keeps its NVML place relative to the others without one.
    if (a->pci_bus_id && b->pci_bus_id && *a->pci_bus_id != *b->pci_bus_id) {
      return *a->pci_bus_id < *b->pci_bus_id;
    }
    return a->index < b->index;
  });
  std::vector<unsigned> order;
  for (const Gpu* gpu : gpus) order.push_back(gpu->index);
  return order;
}

IdFormat resolve_id_format(const Machine& machine, IdFormat requested, const CallerCudaEnv& caller,
                           bool allocation_named_by_uuid) {
  if (requested != IdFormat::automatic) return requested;
  if (caller.device_order && *caller.device_order != "PCI_BUS_ID") return IdFormat::uuid;
  if (allocation_named_by_uuid) return IdFormat::uuid;
  for (const auto& gpu : machine.gpus) {
    // How CUDA counts a GPU in MIG mode among positions depends on the driver; UUIDs do not.
    if (gpu.split_by_mig()) return IdFormat::uuid;
    if (gpu.mig) continue;
    if (!gpu.usable() || !gpu.pci_bus_id || !gpu.accessible()) return IdFormat::uuid;
  }
  return IdFormat::index;
}

CudaEnvironment cuda_environment(const Machine& machine, const std::vector<unsigned>& chosen,
                                 IdFormat format) {
  CudaEnvironment env;
  // A MIG instance has no index form (a position names a GPU, and CUDA would use that GPU's
  // first instance), so it is always its MIG- UUID, whatever --id-format says; and a UUID
  // means the same under any CUDA_DEVICE_ORDER, so the caller's stays.
  bool instance = std::any_of(chosen.begin(), chosen.end(), [&](unsigned index) { return machine.gpus.at(index).mig; });
  env.format = format == IdFormat::uuid || instance ? IdFormat::uuid : IdFormat::index;
  auto order = pci_order(machine);
  std::vector<std::string> ids;
  for (unsigned index : chosen) {
    if (env.format == IdFormat::uuid) {
      ids.push_back(machine.gpus.at(index).uuid);
    } else {
      auto position = std::find(order.begin(), order.end(), index) - order.begin();
      ids.push_back(std::to_string(position));
    }
  }
  env.visible_devices = join(ids, ",");
  // Positions only mean PCI order when CUDA is told so; UUIDs mean the same under
  // any order, so the caller's own choice stays.
  if (env.format == IdFormat::index) env.device_order = "PCI_BUS_ID";
  return env;
}

}  // namespace wg
