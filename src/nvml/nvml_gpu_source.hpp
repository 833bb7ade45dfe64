#pragma once
// GpuSource over a loaded NVML library: reads every GPU without creating a CUDA context.

#include <chrono>
#include <memory>
#include <string>

#include "core/gpu_source.hpp"
#include "nvml/nvml_library.hpp"

namespace wg {

class NvmlGpuSource : public GpuSource {
 public:
  // `sample_window` is how far back utilization and power are averaged.
  NvmlGpuSource(std::unique_ptr<NvmlLibrary> library, std::chrono::milliseconds sample_window)
      : library_(std::move(library)), sample_window_(sample_window) {}
  Result<Machine> query(TopologyDetail detail) override;
  void read_links(Machine& machine, const std::vector<unsigned>& among) override;
  const NvmlLibrary& library() const { return *library_; }

 private:
  std::unique_ptr<NvmlLibrary> library_;
  std::chrono::milliseconds sample_window_;
};

}  // namespace wg
