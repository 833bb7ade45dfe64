#include "core/visible_devices.hpp"

#include "core/gpu_list.hpp"
#include "core/identity.hpp"

namespace wg {
namespace {

constexpr const char* kVar = "CUDA_VISIBLE_DEVICES";

// What an entry could have named: "this machine has 4 GPUs, positions 0-3 in PCI bus order",
// or, where some GPU refuses this process, "this process can open 2 of this machine's 4 GPUs, ...".
std::string positions(std::size_t count, std::size_t total) {
  std::string range = count == 1 ? ", position 0 in PCI bus order"
                                 : ", positions 0-" + std::to_string(count - 1) + " in PCI bus order";
  if (count == total) {
    if (count == 0) return "this machine has no GPUs";
    return "this machine has " + std::to_string(count) + (count == 1 ? " GPU" : " GPUs") + range;
  }
  std::string all = "this machine's " + std::to_string(total) + (total == 1 ? " GPU" : " GPUs");
  if (count == 0) return "this process can open none of " + all;
  return "this process can open " + std::to_string(count) + " of " + all + range;
}

// A MIG- entry, in either form CUDA accepts: MIG-<uuid> (R470 and later) or
// MIG-GPU-<parent uuid>/<gi>/<ci>.
Result<unsigned> resolve_instance(const GpuRef& ref, const std::string& quoted, const Machine& machine) {
  bool ambiguous = false;
  auto index = find_mig_instance(machine, ref.text, &ambiguous);
  if (index) return *index;
  if (ambiguous) return usage_error(quoted + " matches more than one MIG instance; give more of it");
  if (machine.gpus.empty()) return usage_error(quoted + " names no MIG instance (this machine has no GPUs)");
  return usage_error(quoted + " names no MIG instance on this machine (see with-gpu --status)");
}

Result<unsigned> resolve_entry(const GpuRef& ref, const Machine& machine,
                               const std::vector<unsigned>& by_pci) {
  std::string quoted = std::string(kVar) + " entry '" + ref.text + "'";
  if (ref.is_mig) return resolve_instance(ref, quoted, machine);
  if (ref.number) {
    if (*ref.number < by_pci.size()) return by_pci[*ref.number];
    return usage_error(quoted + " names no GPU (" + positions(by_pci.size(), whole_gpu_count(machine)) + ")");
  }
  bool ambiguous = false;
  auto index = find_by_uuid_prefix(machine, ref.text, &ambiguous);
  if (index) return *index;
  if (ambiguous) return usage_error(quoted + " matches more than one GPU UUID; give more of it");
  return usage_error(quoted + (machine.gpus.empty() ? " names no GPU (this machine has no GPUs)"
                                                    : " names no GPU on this machine (see with-gpu --status)"));
}

}  // namespace

Result<std::optional<Allocation>> read_allocation(const std::optional<std::string>& value,
                                                  const Machine& machine) {
  if (!value) return std::optional<Allocation>();
  if (value->find_first_not_of(" \t") == std::string::npos || *value == "-1") {
    return std::optional<Allocation>(Allocation{});
  }
  auto refs = parse_gpu_list(*value, kVar);
  if (!refs) return refs.error();
  auto by_pci = pci_order(machine);
  Allocation allocation;
  for (const auto& ref : *refs) {
    auto index = resolve_entry(ref, machine, by_pci);
    if (!index) return index.error();
    // Waiting would never end: a GPU in MIG mode is never offered whole.
    std::string quoted = std::string(kVar) + " entry '" + ref.text + "'";
    if (auto split = check_not_split(machine.gpus[*index], machine, quoted); !split) return split.error();
    allocation.indices.push_back(*index);
    allocation.named_by_uuid = allocation.named_by_uuid || !ref.number;
  }
  if (auto conflict = mig_conflict(allocation.indices, machine)) {
    return usage_error(std::string(kVar) + "='" + *value + "' names " +
                       (machine.gpus[conflict->second].mig ? "two MIG instances" : "a MIG instance and a GPU") +
                       "; CUDA uses only the first MIG device of such a value, so set it to one MIG instance "
                       "(or unset it to let with-gpu choose)");
  }
  return std::optional<Allocation>(allocation);
}

}  // namespace wg
