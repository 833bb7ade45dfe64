#pragma once
// `with-gpu --status --topology`: the GPU-by-GPU matrix, laid out as nvidia-smi topo -m.

#include <string>

#include "core/gpu.hpp"

namespace wg {

// The matrix with each GPU's local CPUs and NUMA node, then a legend.
std::string render_topology_matrix(const Machine& machine);

}  // namespace wg
