#pragma once
// Where the machine's GPUs come from: NVML in the product, in-memory machines in tests.

#include "core/gpu.hpp"
#include "core/result.hpp"

#include <vector>

namespace wg {

class GpuSource {
 public:
  virtual ~GpuSource() = default;
  // Reads every GPU, and as much topology as `detail` asks for. Per-GPU faults are
  // recorded on the GPU (it becomes unusable or a reading becomes unknown); only a
  // failure of the whole driver is an Error.
  virtual Result<Machine> query(TopologyDetail detail) = 0;

  // Reads how the GPUs in `among` are connected to each other into machine.links (one
  // driver call per pair, so only the GPUs a decision can still choose are asked about).
  virtual void read_links(Machine& machine, const std::vector<unsigned>& among) = 0;
};

}  // namespace wg
