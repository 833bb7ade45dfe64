// libFuzzer target: --gpu lists and CUDA_VISIBLE_DEVICES values against a machine.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/gpu_list.hpp"
#include "core/visible_devices.hpp"

namespace {

wg::Machine machine() {
  wg::Machine m;
  const char* buses[] = {"00000000:81:00.0", "00000000:01:00.0", "00000000:41:00.0", "00000000:C1:00.0"};
  for (unsigned i = 0; i < 4; ++i) {
    wg::Gpu gpu;
    gpu.index = i;
    gpu.uuid = "GPU-" + std::to_string(1000 + i) + "abcd-0000";
    gpu.pci_bus_id = std::string(buses[i]);
    m.gpus.push_back(gpu);
  }
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const wg::Machine gpus = machine();
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto refs = wg::parse_gpu_list(text, "--gpu")) {
    if (auto indices = wg::resolve_gpu_list(*refs, gpus)) {
      for (unsigned index : *indices) {
        if (index >= gpus.gpus.size()) __builtin_trap();
      }
    }
  }
  if (auto allocation = wg::read_allocation(text, gpus); allocation && *allocation) {
    for (unsigned index : (*allocation)->indices) {
      if (index >= gpus.gpus.size()) __builtin_trap();
    }
  }
  return 0;
}
