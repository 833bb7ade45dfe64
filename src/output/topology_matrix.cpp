#include "output/topology_matrix.hpp"

#include <vector>

#include "output/table.hpp"

namespace wg {
namespace {

constexpr const char* kLegend = R"(
  X    = self
  NV#  = connected by # NVLinks (directly or through NVSwitch)
  BRD  = two GPUs on one board
  PIX  = at most one PCIe bridge between them
  PXB  = several PCIe bridges, no host bridge
  PHB  = a PCIe host bridge (the CPU's root complex)
  NODE = PCIe and the link between host bridges within one NUMA node
  SYS  = PCIe and the link between NUMA nodes (e.g. UPI, Infinity Fabric)
  ?    = not reported by the driver
)";

}  // namespace

std::string render_topology_matrix(const Machine& machine) {
  // Links join whole GPUs: MIG instances share their parent's.
  std::vector<const Gpu*> whole;
  for (const auto& gpu : machine.gpus) {
    if (!gpu.mig) whole.push_back(&gpu);
  }
  std::vector<TableRow> rows;
  TableRow head = {""};
  for (const Gpu* gpu : whole) head.push_back("GPU" + std::to_string(gpu->index));
  head.push_back("CPU AFFINITY");
  head.push_back("NUMA");
  rows.push_back(head);
  for (const Gpu* gpu : whole) {
    TableRow row = {"GPU" + std::to_string(gpu->index)};
    for (const Gpu* other : whole) {
      row.push_back(other == gpu ? "X" : link_label(link_between(machine, gpu->index, other->index)));
    }
    row.push_back(gpu->local_cpus ? gpu->local_cpus->to_string() : "n/a");
    row.push_back(gpu->numa_node ? std::to_string(*gpu->numa_node) : "n/a");
    rows.push_back(row);
  }
  return format_table(rows) + kLegend;
}

}  // namespace wg
