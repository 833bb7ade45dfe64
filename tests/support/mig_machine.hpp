#pragma once
// In-memory MIG machines for tests of the output module: a GPU in MIG mode and its
// instances, built as the NVML adapter reports them (core/gpu.hpp).

#include <cstdio>
#include <string>

#include "core/gpu.hpp"
#include "support/machine_builder.hpp"
#include "support/mig_builder.hpp"

namespace wg::test {

// `gpu` with a MIG mode: current and pending.
inline Gpu with_mig_mode(Gpu gpu, MigMode current, MigMode pending) {
  gpu.mig_modes = MigModes{current, pending};
  return gpu;
}

// `gpu` (its memory and processes) as the `device`th MIG instance of `parent`, at `index`
// in Machine::gpus.
inline Gpu as_instance(Gpu gpu, const Gpu& parent, unsigned device, unsigned gi, unsigned ci, unsigned slices,
                       const std::string& profile) {
  char uuid[64];
  std::snprintf(uuid, sizeof uuid, "MIG-%08x-aaaa-bbbb-cccc-%012x", 0xb0000000u + gpu.index, parent.index);
  return make_instance(gpu, parent, MigInstance{parent.index, parent.uuid, device, gi, ci, slices, slices, profile, device},
                       uuid);
}

// An H100 split as 3g.40gb + 2 x 2g.20gb (GPU 0, instances at indices 2, 3, 4) and a
// second H100 used whole (GPU 1). The 3g.40gb instance runs pid 4242; the first 2g.20gb
// is claimed by pid 311.
inline Machine h100_split_in_use() {
  Gpu split = with_mig_mode(GpuBuilder(0, 81559).name("NVIDIA H100 80GB HBM3").used_mib(1024), MigMode::enabled,
                            MigMode::enabled);
  split.temperature_c = 41;
  split.power_w = 92;
  split.power_limit_w = 700;
  split.utilization_percent.reset();
  Gpu whole = with_mig_mode(GpuBuilder(1, 81559).name("NVIDIA H100 80GB HBM3"), MigMode::disabled, MigMode::disabled);
  whole.temperature_c = 35;
  whole.power_w = 70;
  whole.power_limit_w = 700;
  return machine_of({split, whole,
                     as_instance(GpuBuilder(2, 40192).process(4242, 20480), split, 0, 1, 0, 3, "3g.40gb"),
                     as_instance(GpuBuilder(3, 20096).claimed_by(311), split, 1, 5, 0, 2, "2g.20gb"),
                     as_instance(GpuBuilder(4, 20096), split, 2, 6, 0, 2, "2g.20gb")});
}

}  // namespace wg::test
