// Selection cost against GPU count: select_gpus on in-memory machines of 1 to 1024 GPUs,
// then topology-aware sets (k of N GPUs with NVLink islands and two sockets) against
// the same choice with --topology ignore. Prints two tables of whitespace-separated
// columns, each after a header line. Not a test: timings live in benchmarks.
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
    gpu.memory_used_bytes = *gpu.memory_total_bytes - *gpu.memory_free_bytes;
    gpu.processes = std::vector<wg::GpuProcess>{{1000 + i, gpu.memory_used_bytes}};
    gpu.utilization_percent = i % 100;
    gpu.temperature_c = 40 + i % 50;
    machine.gpus.push_back(gpu);
  }
  return machine;
}

// NVLink islands of 8 (NV18 inside), PCIe switches of 4, islands alternating sockets.
wg::Machine with_topology(unsigned count) {
  wg::Machine machine = machine_of(count);
  machine.links.assign(count, std::vector<wg::GpuLink>(count));
  for (unsigned a = 0; a < count; ++a) {
    machine.gpus[a].numa_node = int((a / 8) % 2);
    for (unsigned b = 0; b < count; ++b) {
      if (a == b) continue;
      bool same_socket = (a / 8) % 2 == (b / 8) % 2;
      machine.links[a][b].pcie = a / 4 == b / 4 ? wg::PciePath::pxb : same_socket ? wg::PciePath::node : wg::PciePath::sys;
      machine.links[a][b].nvlinks = a / 8 == b / 8 ? 18 : 0;
    }
  }
  return machine;
}

template <class Fn>
double median_us(Fn&& fn, int runs) {
  std::vector<double> samples;
  for (int run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    fn();
    samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(samples.begin(), samples.begin() + runs / 2, samples.end());
  return samples[static_cast<std::size_t>(runs / 2)];
}

void topology_sets() {
  std::printf("gpus set topology_us ignore_us set_score\n");
  for (unsigned count : {8u, 16u, 32u, 64u, 128u}) {
    for (unsigned k : {2u, 4u, 8u}) {
      if (k > count) continue;
      auto machine = with_topology(count);
      wg::SelectionOptions options;
      options.min_gpus = options.max_gpus = k;
      options.min_free_bytes = 0;
      wg::Decision decision;
      double topology = median_us([&] { decision = wg::select_gpus(machine, options); }, 21);
      long score = wg::set_score(machine, decision.chosen);
      options.topology = wg::TopologyUse::ignore;
      double ignore = median_us([&] { decision = wg::select_gpus(machine, options); }, 21);
      std::printf("%u %u %.1f %.1f %ld\n", count, k, topology, ignore, score);
    }
  }
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
  topology_sets();
}
