#pragma once
// --bind: where the command should run, from the chosen GPUs' locality.

#include <optional>
#include <string>
#include <vector>

#include "core/cpu_set.hpp"
#include "core/gpu.hpp"

namespace wg {

// The command's CPUs (the chosen GPUs' local CPUs that with-gpu may use) and the NUMA
// nodes to prefer for its memory. Empty cpus: nothing to pin to, `problem` says why.
struct Binding {
  CpuSet cpus;
  std::vector<int> memory_nodes;  // sorted, unique
  std::string problem;            // "" when cpus is set
};

// Plans the binding for `chosen`; `allowed` is what with-gpu may run on (all CPUs when
// unknown). Only GPUs whose local CPUs are known count; if one is unknown, no pinning.
Binding plan_binding(const Machine& machine, const std::vector<unsigned>& chosen, const std::optional<CpuSet>& allowed);

}  // namespace wg
