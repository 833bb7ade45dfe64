#pragma once
// In-memory GPUs for tests of the pure modules: sensible healthy defaults, changed
// one fact at a time.

#include <cstdio>
#include <string>
#include <vector>

#include "core/gpu.hpp"

namespace wg::test {

constexpr std::uint64_t MiB = 1024ull * 1024ull;

class GpuBuilder {
 public:
  explicit GpuBuilder(unsigned index, std::uint64_t total_mib = 40960) {
    char uuid[64];
    std::snprintf(uuid, sizeof uuid, "GPU-%08x-1111-2222-3333-444455556666", 0xa0000000u + index);
    char bus[32];
    std::snprintf(bus, sizeof bus, "00000000:%02X:00.0", 0x10 + index);
    gpu_.index = index;
    gpu_.uuid = uuid;
    gpu_.name = "NVIDIA A100-SXM4-40GB";
    gpu_.pci_bus_id = std::string(bus);
    gpu_.memory_total_bytes = total_mib * MiB;
    gpu_.memory_used_bytes = 0;
    gpu_.memory_free_bytes = total_mib * MiB;
    gpu_.utilization_percent = 0;
    gpu_.processes = std::vector<GpuProcess>{};
  }
  // Sets free memory alone, so that tests of ranking and thresholds do not also
  // create used memory that no process accounts for (hidden usage).
  GpuBuilder& free_mib(std::uint64_t mib) {
    gpu_.memory_free_bytes = mib * MiB;
    return *this;
  }
  // Sets used memory (with no process to account for it) and free = total - used.
  GpuBuilder& used_mib(std::uint64_t mib) {
    gpu_.memory_used_bytes = mib * MiB;
    gpu_.memory_free_bytes = *gpu_.memory_total_bytes - mib * MiB;
    return *this;
  }
  // Adds a process whose `mib` are attributed to it: used grows, free shrinks.
  GpuBuilder& process(unsigned pid, std::uint64_t mib) {
    gpu_.processes->push_back({pid, mib * MiB});
    *gpu_.memory_used_bytes += mib * MiB;
    *gpu_.memory_free_bytes -= mib * MiB;
    return *this;
  }
  GpuBuilder& process_without_memory(unsigned pid) {
    gpu_.processes->push_back({pid, std::nullopt});
    return *this;
  }
  // NUMA node and local CPUs ("0-23,48-71").
  GpuBuilder& locality(int node, const std::string& cpus) {
    gpu_.numa_node = node;
    gpu_.local_cpus = CpuSet::parse(cpus);
    return *this;
  }
  // A memory reading the driver answered but that cannot be true: memory unknown.
  GpuBuilder& impossible_memory(std::uint64_t total_mib, std::uint64_t free_mib) {
    gpu_.memory_total_bytes.reset();
    gpu_.memory_used_bytes.reset();
    gpu_.memory_free_bytes.reset();
    gpu_.impossible_memory = ImpossibleMemory{MemoryFault::free_above_total, total_mib * MiB, 0, free_mib * MiB, 0};
    return *this;
  }
  GpuBuilder& processes_refused() {
    gpu_.processes.reset();
    return *this;
  }
  GpuBuilder& util(std::optional<unsigned> percent) {
    gpu_.utilization_percent = percent;
    return *this;
  }
  GpuBuilder& name(std::string text) {
    gpu_.name = std::move(text);
    return *this;
  }
  GpuBuilder& bus(std::string id) {
    gpu_.pci_bus_id = std::move(id);
    return *this;
  }
  GpuBuilder& lost(std::string error = "GPU is lost") {
    gpu_.error = std::move(error);
    return *this;
  }
  // NVML answered NO_PERMISSION for its handle (a device cgroup): nothing is known of it.
  GpuBuilder& refused_by_driver() {
    Gpu refused;
    refused.index = gpu_.index;
    refused.access = DeviceAccess::denied_by_driver;
    gpu_ = refused;
    return *this;
  }
  // NVML read it, but its /dev/nvidia<minor> refuses this process.
  GpuBuilder& refused_by_device_node(unsigned minor) {
    gpu_.minor_number = minor;
    gpu_.access = DeviceAccess::denied_by_device_node;
    return *this;
  }
  GpuBuilder& claimed_by(int pid, ClaimMode mode = ClaimMode::exclusive) {
    gpu_.claims.push_back({pid, mode, {}, {}});
    return *this;
  }
  operator Gpu() const { return gpu_; }

 private:
  Gpu gpu_;
};

inline Machine machine_of(std::vector<Gpu> gpus) {
  Machine machine;
  machine.driver_version = "550.54.14";
  machine.gpus = std::move(gpus);
  return machine;
}

// Three GPUs whose NVML index order differs from PCI bus order: index 0 sits on the
// highest bus, index 1 on the lowest.
inline Machine shuffled() {
  return machine_of({GpuBuilder(0).bus("00000000:81:00.0"), GpuBuilder(1).bus("00000000:01:00.0"),
                     GpuBuilder(2).bus("00000000:41:00.0")});
}

// A CPU set from the kernel's list format ("0-23,48-71"); the text must be valid.
inline CpuSet cpus(const std::string& text) { return *CpuSet::parse(text); }

// Two sockets of four GPUs; NVLink pairs (0,1), (2,3), (4,5), (6,7) under one PCIe
// switch each; NODE within a socket, SYS across. Free memory per GPU in GiB.
inline Machine two_socket(const std::vector<std::uint64_t>& free_gib) {
  Machine machine;
  for (unsigned i = 0; i < 8; ++i) {
    machine.gpus.push_back(
        GpuBuilder(i, 81920).free_mib(free_gib[i] * 1024).locality(i < 4 ? 0 : 1, i < 4 ? "0" : "1"));
  }
  machine.links.assign(8, std::vector<GpuLink>(8));
  for (unsigned a = 0; a < 8; ++a) {
    for (unsigned b = 0; b < 8; ++b) {
      if (a == b) continue;
      GpuLink& link = machine.links[a][b];
      link.pcie = a / 4 != b / 4 ? PciePath::sys : a / 2 == b / 2 ? PciePath::pix : PciePath::node;
      link.nvlinks = a / 2 == b / 2 ? 12 : 0;
    }
  }
  return machine;
}

// The free memory (GiB) of two_socket's GPUs in the topology tests: no two alike.
inline const std::vector<std::uint64_t> kTwoSocketFree = {60, 62, 11, 79, 40, 38, 78, 16};

}  // namespace wg::test
