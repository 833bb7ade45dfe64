#include "core/gpu_set.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::two_socket;

const std::vector<std::uint64_t>& kFree = test::kTwoSocketFree;

TEST(PairScore, RanksNvlinkThenPciePathThenNumaNode) {
  Machine machine = two_socket(kFree);
  EXPECT_GT(pair_score(machine, 0, 1), pair_score(machine, 0, 2));  // NV12 > NODE
  EXPECT_GT(pair_score(machine, 0, 2), pair_score(machine, 0, 4));  // NODE > SYS
  machine.links[0][4].pcie = machine.links[4][0].pcie = std::nullopt;
  EXPECT_GT(pair_score(machine, 0, 5), pair_score(machine, 0, 4));  // SYS > unknown
  machine.links.clear();
  EXPECT_EQ(pair_score(machine, 0, 4), 0);
  EXPECT_EQ(pair_score(machine, 0, 1), 1);  // links unknown, same NUMA node
  Machine more = two_socket(kFree);
  more.links[0][1].nvlinks = more.links[1][0].nvlinks = 4;
  more.links[2][3].nvlinks = more.links[3][2].nvlinks = 2;
  more.links[2][3].pcie = more.links[3][2].pcie = PciePath::brd;
  EXPECT_GT(pair_score(more, 0, 1), pair_score(more, 2, 3));  // more NVLinks beat a closer PCIe path
}

// A machine of `count` GPUs in NVLink islands of 8 (NVSwitch inside, NV18), islands
// alternating between two sockets, pseudo-random free memory.
Machine islands(unsigned count, unsigned seed) {
  std::mt19937 random(seed);
  Machine machine;
  for (unsigned i = 0; i < count; ++i) {
    unsigned socket = (i / 8) % 2;
    machine.gpus.push_back(GpuBuilder(i, 81920)
                               .free_mib(1024 + random() % 80000)
                               .locality(int(socket), socket ? "1" : "0"));
  }
  machine.links.assign(count, std::vector<GpuLink>(count));
  for (unsigned a = 0; a < count; ++a) {
    for (unsigned b = 0; b < count; ++b) {
      if (a == b) continue;
      bool same_socket = (a / 8) % 2 == (b / 8) % 2;
      machine.links[a][b].pcie = a / 4 == b / 4 ? PciePath::pxb : same_socket ? PciePath::node : PciePath::sys;
      machine.links[a][b].nvlinks = a / 8 == b / 8 ? 18 : 0;
    }
  }
  return machine;
}

std::vector<unsigned> by_memory(const Machine& machine) {
  std::vector<unsigned> order;
  for (const auto& gpu : machine.gpus) order.push_back(gpu.index);
  std::stable_sort(order.begin(), order.end(), [&](unsigned a, unsigned b) {
    return machine.gpus[a].memory_free_bytes > machine.gpus[b].memory_free_bytes;
  });
  return order;
}

TEST(GpuSet, ExactSearchFindsTheBestScoreAmongFewCombinations) {
  Machine machine = two_socket(kFree);
  auto order = by_memory(machine);
  auto chosen = choose_set(machine, {}, order, 3);
  long best = 0;
  for (unsigned a = 0; a < 8; ++a)
    for (unsigned b = a + 1; b < 8; ++b)
      for (unsigned c = b + 1; c < 8; ++c) best = std::max(best, set_score(machine, {a, b, c}));
  EXPECT_EQ(set_score(machine, chosen), best);
}

TEST(GpuSet, HeuristicForManyGpusFindsAWholeNvlinkIsland) {
  // 64 choose 8 is 4.4e9 combinations: far past the exact search.
  for (unsigned seed = 1; seed <= 20; ++seed) {
    Machine machine = islands(64, seed);
    auto chosen = choose_set(machine, {}, by_memory(machine), 8);
    ASSERT_EQ(chosen.size(), 8u);
    for (unsigned index : chosen) EXPECT_EQ(index / 8, chosen[0] / 8) << "seed " << seed;
  }
}

TEST(GpuSet, HeuristicMatchesTheExactSearchWhereBothCanRun) {
  // 16 GPUs choose 4 (1820 combinations), exact, and again with the heuristic forced.
  std::mt19937 random(7);
  for (unsigned seed = 1; seed <= 40; ++seed) {
    Machine machine = islands(16, seed);
    for (unsigned a = 0; a < 16; ++a) {  // uneven NVLink counts inside islands
      for (unsigned b = a + 1; b < 16; ++b) {
        if (!machine.links[a][b].nvlinks) continue;
        machine.links[a][b].nvlinks = machine.links[b][a].nvlinks = static_cast<unsigned>(random() % 5);
      }
    }
    auto order = by_memory(machine);
    for (std::size_t count : {2, 3, 4, 5}) {
      auto exact = choose_set(machine, {}, order, count);
      auto heuristic = choose_set(machine, {}, order, count, 0);
      EXPECT_EQ(set_score(machine, heuristic), set_score(machine, exact)) << "seed " << seed << " count " << count;
    }
  }
}

TEST(GpuSet, KeepsRequiredGpusAndFillsFromCandidates) {
  Machine machine = two_socket(kFree);
  auto chosen = choose_set(machine, {3}, {0, 1, 2, 4, 5, 6, 7}, 2);
  EXPECT_EQ(chosen, (std::vector<unsigned>{3, 2}));
}

}  // namespace
}  // namespace wg
