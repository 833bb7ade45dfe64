#include "os/cpu_affinity.hpp"

#include <sched.h>

#include <cctype>
#include <cstdio>
#include <cstring>

#include "os/proc_info.hpp"

namespace wg {

std::optional<CpuSet> allowed_cpus() {
  // Grown until the kernel's mask fits: machines with more than 1024 CPUs exist.
  for (std::size_t cpus = 1024; cpus <= 1u << 20; cpus *= 4) {
    std::vector<std::uint64_t> words(cpus / 64, 0);
    if (sched_getaffinity(0, words.size() * sizeof(std::uint64_t), reinterpret_cast<cpu_set_t*>(words.data())) == 0) {
      return CpuSet::from_words(words);
    }
    if (errno != EINVAL) return std::nullopt;
  }
  return std::nullopt;
}

std::optional<CpuSet> online_cpus() {
  auto text = read_small_file("/sys/devices/system/cpu/online");
  if (!text) return std::nullopt;
  return CpuSet::parse(*text);
}

Result<Ok> pin_to_cpus(const CpuSet& cpus) {
  std::vector<std::uint64_t> words = cpus.words();
  words.resize(std::max<std::size_t>(words.size(), sizeof(cpu_set_t) / sizeof(std::uint64_t)), 0);
  if (sched_setaffinity(0, words.size() * sizeof(std::uint64_t), reinterpret_cast<const cpu_set_t*>(words.data())) !=
      0) {
    return Error{ErrorKind::internal, std::string("cannot pin to CPUs ") + cpus.to_string() + ": " + std::strerror(errno),
                 {}};
  }
  return Ok{};
}

std::optional<std::string> sysfs_bus_id(const std::string& nvml_bus_id) {
  unsigned domain = 0, bus = 0, device = 0, function = 0;
  int used = 0;
  bool plain = nvml_bus_id.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos;
  if (!plain || std::sscanf(nvml_bus_id.c_str(), "%x:%x:%x.%x%n", &domain, &bus, &device, &function, &used) != 4 ||
      used != int(nvml_bus_id.size())) {
    return std::nullopt;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%04x:%02x:%02x.%x", domain, bus, device, function);
  return std::string(text);
}

void fill_locality_from_sysfs(Machine& machine, const std::string& root) {
  for (auto& gpu : machine.gpus) {
    if (!gpu.usable() || !gpu.pci_bus_id || (gpu.numa_node && gpu.local_cpus)) continue;
    auto bus_id = sysfs_bus_id(*gpu.pci_bus_id);
    if (!bus_id) continue;
    std::string device = root + "/bus/pci/devices/" + *bus_id + "/";
    if (!gpu.local_cpus) {
      auto list = read_small_file(device + "local_cpulist");
      if (list) gpu.local_cpus = CpuSet::parse(*list);
      if (gpu.local_cpus && gpu.local_cpus->empty()) gpu.local_cpus.reset();
    }
    if (!gpu.numa_node) {
      auto node = read_small_file(device + "numa_node");
      int value = -1;
      if (node && std::sscanf(node->c_str(), "%d", &value) == 1 && value >= 0) gpu.numa_node = value;
    }
  }
}

}  // namespace wg
