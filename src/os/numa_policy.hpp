#pragma once
// Memory placement for --bind: prefer the chosen GPUs' NUMA nodes, as numactl
// --preferred does. libnuma is loaded with dlopen here and only here, so the binary
// needs it only when --bind is used.

#include <vector>

#include "core/result.hpp"

namespace wg {

// Prefers memory on those of `nodes` this process may use, for itself and what it
// execs. Returns the nodes preferred; an Error (kind internal) says why none were.
[[nodiscard]] Result<std::vector<int>> prefer_memory_nodes(const std::vector<int>& nodes);

}  // namespace wg
