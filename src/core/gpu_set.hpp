#pragma once
// Choosing several GPUs by interconnect: pairs scored from the machine's topology, sets
// searched without trying every combination.

#include <cstddef>
#include <vector>

#include "core/gpu.hpp"

namespace wg {

// How well two GPUs are connected, higher is better: NVLinks first, then the PCIe
// path (BRD > PIX > PXB > PHB > NODE > SYS > unknown), then a shared NUMA node.
int pair_score(const Machine& machine, unsigned a, unsigned b);

// The sum of pair_score over every pair of `gpus`.
long set_score(const Machine& machine, const std::vector<unsigned>& gpus);

// `count` GPUs: every one of `required`, the rest from `candidates` (given best ranked
// first), with the highest set_score; among equal scores, the set whose worst-ranked
// member ranks best (then its second worst, ...): memory first.
// Exact while the combinations are at most `exact_limit`; beyond, a greedy build from
// every candidate followed by single swaps. Returned in the order given.
inline constexpr double kExhaustiveLimit = 5000;
std::vector<unsigned> choose_set(const Machine& machine, const std::vector<unsigned>& required,
                                 const std::vector<unsigned>& candidates, std::size_t count,
                                 double exact_limit = kExhaustiveLimit);

}  // namespace wg
