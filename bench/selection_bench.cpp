// Selection cost against GPU count: select_gpus on in-memory machines of 1 to 1024 GPUs.
// Prints "gpus median_us" lines. Not a test: timings live in benchmarks.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/selector.hpp"

namespace {

wg::Machine machine_of(unsigned count) {
  wg::Machine machine;
  for (unsigned i = 0; i < count; ++i) {
    wg::Gpu gpu;
    gpu.index = i;
    gpu.uuid = "GPU-" + std::to_string(i);
    gpu.name = i % 2 ? "NVIDIA H100 80GB HBM3" : "NVIDIA L40S";
    gpu.memory_total_bytes = 80ull << 30;
    gpu.memory_free_bytes = ((i * 7919u) % 80u + 1u) * (1ull << 30);
    gpu.memory_used_bytes = gpu.memory_total_bytes - gpu.memory_free_bytes;
    gpu.processes = std::vector<wg::GpuProcess>{{1000 + i, gpu.memory_used_bytes}};
    gpu.utilization_percent = i % 100;
    gpu.temperature_c = 40 + i % 50;
    machine.gpus.push_back(gpu);
  }
  return machine;
}

}  // namespace

int main() {
  wg::SelectionOptions options;
  options.min_gpus = 8;
  options.max_gpus = 8;
  options.max_util_percent = 90;
  options.gpu_type = "h100";
  std::printf("gpus median_us\n");
  for (unsigned count : {1u, 8u, 64u, 256u, 1024u}) {
    auto machine = machine_of(count);
    std::vector<double> samples;
    unsigned sink = 0;
    for (int run = 0; run < 51; ++run) {
      auto start = std::chrono::steady_clock::now();
      auto decision = wg::select_gpus(machine, options);
      samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
      sink += decision.chosen.empty() ? 0 : decision.chosen.front();
    }
    std::nth_element(samples.begin(), samples.begin() + 25, samples.end());
    std::printf("%u %.2f\n", count, samples[25]);
    if (sink == 0xFFFFFFFF) std::printf("unreachable\n");
  }
}
