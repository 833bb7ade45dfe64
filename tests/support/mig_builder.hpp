#pragma once
// In-memory MIG layouts for tests of the pure modules: a GPU in MIG mode and its
// instances, each a Gpu of its own after every whole GPU (core/gpu.hpp).

#include <cstdio>
#include <string>
#include <utility>

#include "core/gpu.hpp"
#include "support/machine_builder.hpp"

namespace wg::test {

// A whole GPU in MIG mode: CUDA uses its instances, not the GPU.
inline Gpu split(GpuBuilder builder) {
  Gpu gpu = builder;
  gpu.mig_modes = MigModes{MigMode::enabled, MigMode::enabled};
  return gpu;
}

// `gpu` (its memory and processes) as the MIG instance `mig` named `uuid`, as the NVML
// adapter reports one: its parent's name, bus and sensors, no utilization.
inline Gpu make_instance(Gpu gpu, const Gpu& parent, MigInstance mig, const std::string& uuid) {
  gpu.uuid = uuid;
  gpu.name = parent.name;
  gpu.pci_bus_id = parent.pci_bus_id;
  gpu.utilization_percent.reset();
  gpu.utilization_avg_percent.reset();
  gpu.temperature_c = parent.temperature_c;
  gpu.power_w = parent.power_w;
  gpu.power_limit_w = parent.power_limit_w;
  gpu.mig = std::move(mig);
  return gpu;
}

// `builder` (its index, memory and processes) made into instance `device` of `parent`,
// with `slices` GPU slices. GPU instance ids count from 1 in slot order; compute instance 0.
inline Gpu instance(GpuBuilder builder, const Gpu& parent, unsigned device, unsigned slices) {
  Gpu gpu = builder;
  char uuid[64];
  std::snprintf(uuid, sizeof uuid, "MIG-%08x-aaaa-bbbb-cccc-ddddeeeeffff", 0xb0000000u + gpu.index);
  std::string profile = mig_profile_name(slices, slices, *gpu.memory_total_bytes / MiB);
  return make_instance(gpu, parent, MigInstance{parent.index, parent.uuid, device, device + 1, 0, slices, slices, profile,
                                                device},
                       uuid);
}

// GPU 0 a whole A100; GPU 1 an H100 in MIG mode as 3g.40gb (index 2) and two 2g.20gb
// (indices 3 and 4), all empty.
inline Machine h100_split() {
  Gpu parent = split(GpuBuilder(1, 81920).name("NVIDIA H100 80GB HBM3"));
  return machine_of({GpuBuilder(0), parent, instance(GpuBuilder(2, 40448), parent, 0, 3),
                     instance(GpuBuilder(3, 20096), parent, 1, 2), instance(GpuBuilder(4, 20096), parent, 2, 2)});
}

}  // namespace wg::test
