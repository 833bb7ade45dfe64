#include "nvml/nvml_topology.hpp"

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

namespace wg {
namespace {

constexpr unsigned kMaskWords = 64;  // 4096 CPUs; NVML fills what the machine has

std::optional<CpuSet> read_mask(nvmlReturn_t code, const std::vector<unsigned long>& words) {
  if (code != NVML_SUCCESS) return std::nullopt;
  CpuSet set = CpuSet::from_words({words.begin(), words.end()});
  if (set.empty()) return std::nullopt;  // no affinity is "unknown", never "no CPU"
  return set;
}

std::optional<CpuSet> local_cpus(const NvmlApi& api, nvmlDevice_t device) {
  if (!api.get_cpu_affinity) return std::nullopt;
  std::vector<unsigned long> words(kMaskWords, 0);
  return read_mask(api.get_cpu_affinity(device, kMaskWords, words.data()), words);
}

// The lowest node of the GPU's memory affinity: the node its PCIe root hangs off.
std::optional<int> numa_node(const NvmlApi& api, nvmlDevice_t device) {
  if (!api.get_memory_affinity) return std::nullopt;
  std::vector<unsigned long> words(kMaskWords, 0);
  auto nodes = read_mask(api.get_memory_affinity(device, kMaskWords, words.data(), NVML_AFFINITY_SCOPE_NODE), words);
  if (!nodes) return std::nullopt;
  return static_cast<int>(nodes->members().front());
}

std::optional<PciePath> pcie_path(int level) {
  switch (level) {
    case NVML_TOPOLOGY_INTERNAL: return PciePath::brd;
    case NVML_TOPOLOGY_SINGLE: return PciePath::pix;
    case NVML_TOPOLOGY_MULTIPLE: return PciePath::pxb;
    case NVML_TOPOLOGY_HOSTBRIDGE: return PciePath::phb;
    case NVML_TOPOLOGY_NODE: return PciePath::node;
    case NVML_TOPOLOGY_SYSTEM: return PciePath::sys;
    default: return std::nullopt;
  }
}

// Bus ids compare without case ("00000000:1A:00.0" and "00000000:1a:00.0").
bool same_bus_id(const std::string& a, const char* b) { return strcasecmp(a.c_str(), b) == 0; }

// Active NVLinks of one GPU: counted per peer GPU, and those that end at something
// else (an NVSwitch), which connect it to every GPU that also reaches the switches.
struct NvLinks {
  std::vector<unsigned> to_gpu;
  unsigned to_switch = 0;
};

NvLinks nvlinks(const NvmlApi& api, nvmlDevice_t device, const Machine& machine) {
  NvLinks links;
  links.to_gpu.assign(machine.gpus.size(), 0);
  for (unsigned link = 0; link < NVML_NVLINK_MAX_LINKS; ++link) {
    int active = NVML_FEATURE_DISABLED;
    nvmlReturn_t code = api.get_nvlink_state(device, link, &active);
    if (code == NVML_ERROR_INVALID_ARGUMENT || code == NVML_ERROR_NOT_SUPPORTED) break;  // past the last link
    if (code != NVML_SUCCESS || active != NVML_FEATURE_ENABLED) continue;
    nvmlPciInfo_t remote{};
    if (!api.get_nvlink_remote_pci || api.get_nvlink_remote_pci(device, link, &remote) != NVML_SUCCESS) continue;
    remote.busId[sizeof remote.busId - 1] = '\0';
    bool found = false;
    for (const auto& gpu : machine.gpus) {
      if (gpu.mig) continue;  // an instance shares its parent's bus id
      if (gpu.pci_bus_id && same_bus_id(*gpu.pci_bus_id, remote.busId)) {
        ++links.to_gpu[gpu.index];
        found = true;
      }
    }
    if (!found) ++links.to_switch;
  }
  return links;
}

}  // namespace

void read_locality(const NvmlApi& api, const std::vector<nvmlDevice_t>& devices, Machine& machine) {
  for (std::size_t i = 0; i < devices.size(); ++i) {
    if (!devices[i]) continue;
    machine.gpus[i].local_cpus = local_cpus(api, devices[i]);
    machine.gpus[i].numa_node = numa_node(api, devices[i]);
  }
}

void read_links(const NvmlApi& api, const std::vector<nvmlDevice_t>& devices, Machine& machine) {
  std::size_t count = devices.size();
  machine.links.assign(count, std::vector<GpuLink>(count));
  for (std::size_t a = 0; a < count; ++a) {
    for (std::size_t b = a + 1; b < count && api.get_common_ancestor; ++b) {
      int level = -1;
      if (!devices[a] || !devices[b] || api.get_common_ancestor(devices[a], devices[b], &level) != NVML_SUCCESS) continue;
      machine.links[a][b].pcie = machine.links[b][a].pcie = pcie_path(level);
    }
  }
  if (!api.get_nvlink_state) return;
  std::vector<NvLinks> links(count);
  for (std::size_t a = 0; a < count; ++a) {
    if (devices[a]) links[a] = nvlinks(api, devices[a], machine);
  }
  for (std::size_t a = 0; a < count; ++a) {
    for (std::size_t b = 0; b < count; ++b) {
      if (a == b || !devices[a] || !devices[b]) continue;
      unsigned direct = std::max(links[a].to_gpu[b], links[b].to_gpu[a]);
      machine.links[a][b].nvlinks = direct + std::min(links[a].to_switch, links[b].to_switch);
    }
  }
}

}  // namespace wg
