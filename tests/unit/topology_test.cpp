// CPU sets, pair and set scores, the choice of GPU sets, locality and --bind plans.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/binding.hpp"
#include "core/cpu_set.hpp"
#include "core/gpu_set.hpp"
#include "core/selector.hpp"
#include "unit/machine_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;

CpuSet cpus(const std::string& text) { return *CpuSet::parse(text); }

TEST(CpuSet, ParsesAndPrintsTheKernelListFormat) {
  EXPECT_EQ(cpus("0-3,8,10-11").to_string(), "0-3,8,10-11");
  EXPECT_EQ(cpus("3,2,1,0\n").to_string(), "0-3");
  EXPECT_EQ(cpus("64-65,127").members(), (std::vector<unsigned>{64, 65, 127}));
  EXPECT_TRUE(cpus("").empty());
  EXPECT_EQ(cpus("0-23,48-71").count(), 48u);
}

TEST(CpuSet, RejectsJunkReversedRangesAndHugeNumbers) {
  for (const char* bad : {"a", "1-", "-1", "3-1", "1,,2", "0-70000", "1 2", "0x1"}) {
    EXPECT_FALSE(CpuSet::parse(bad)) << bad;
  }
}

TEST(CpuSet, IntersectsAndUnites) {
  EXPECT_EQ(cpus("0-23,48-71").intersection(cpus("20-30")).to_string(), "20-23");
  EXPECT_TRUE(cpus("0-3").intersection(cpus("64-67")).empty());
  EXPECT_FALSE(cpus("0-3").intersects(cpus("4-7")));
  EXPECT_EQ(cpus("0-3").united(cpus("64")).to_string(), "0-3,64");
  EXPECT_EQ(CpuSet::from_words({0x3, 0, 0}).to_string(), "0-1");
  EXPECT_TRUE(CpuSet::from_words({0, 0}) == CpuSet());
}

// Two sockets of four GPUs; NVLink pairs (0,1), (2,3), (4,5), (6,7) under one PCIe
// switch each; NODE within a socket, SYS across. Free memory per GPU in GiB.
Machine two_socket(const std::vector<std::uint64_t>& free_gib) {
  Machine machine;
  for (unsigned i = 0; i < 8; ++i) {
    machine.gpus.push_back(
        GpuBuilder(i, 81920).free_mib(free_gib[i] * 1024).locality(i < 4 ? 0 : 1, i < 4 ? "0" : "1"));
  }
  machine.links.assign(8, std::vector<GpuLink>(8));
  for (unsigned a = 0; a < 8; ++a) {
    for (unsigned b = 0; b < 8; ++b) {
      if (a == b) continue;
      GpuLink& link = machine.links[a][b];
      link.pcie = a / 4 != b / 4 ? PciePath::sys : a / 2 == b / 2 ? PciePath::pix : PciePath::node;
      link.nvlinks = a / 2 == b / 2 ? 12 : 0;
    }
  }
  return machine;
}

const std::vector<std::uint64_t> kFree = {60, 62, 11, 79, 40, 38, 78, 16};

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

SelectionOptions several(unsigned count) {
  SelectionOptions options;
  options.min_gpus = options.max_gpus = count;
  options.min_free_bytes = 0;
  return options;
}

TEST(SelectorTopology, ChoosesAnNvlinkPairOverTwoLooseGpusWithMoreFreeMemory) {
  auto decision = select_gpus(two_socket(kFree), several(2));
  EXPECT_EQ(decision.chosen, (std::vector<unsigned>{1, 0}));
}

TEST(SelectorTopology, TopologyIgnoreIsPureMemoryFirst) {
  auto options = several(2);
  options.topology = TopologyUse::ignore;
  EXPECT_EQ(select_gpus(two_socket(kFree), options).chosen, (std::vector<unsigned>{3, 6}));
}

TEST(SelectorTopology, ChoosesFourOfEightOnOneSocketWhoseFullestGpuHasMoreFree) {
  // Both sockets score the same; socket 1's fullest GPU (16 GiB free) beats socket 0's (11).
  auto decision = select_gpus(two_socket(kFree), several(4));
  EXPECT_EQ(decision.chosen, (std::vector<unsigned>{6, 4, 5, 7}));
}

TEST(SelectorTopology, OnlyEligibleGpusFormTheSetAndTiesGoToTheFullerGpuWithMoreFree) {
  auto free = kFree;
  free[0] = 1;  // below --min-memory: pair 0-1 is out; of the other NVLink pairs, 4-5's
                // fuller GPU has the most free (38 GiB against 16 and 11)
  auto options = several(2);
  options.min_free_bytes = 2048ull * test::MiB;
  auto decision = select_gpus(two_socket(free), options);
  EXPECT_EQ(decision.chosen, (std::vector<unsigned>{4, 5}));
}

TEST(SelectorTopology, UnknownLinksFallBackToMemoryFirst) {
  Machine machine = two_socket(kFree);
  machine.links.assign(8, std::vector<GpuLink>(8));
  for (auto& gpu : machine.gpus) gpu.numa_node.reset();
  EXPECT_EQ(select_gpus(machine, several(2)).chosen, (std::vector<unsigned>{3, 6}));
}

TEST(SelectorTopology, GpuTypeMatchesStayAheadOfTheInterconnect) {
  Machine machine = two_socket(kFree);
  machine.gpus[3].name = machine.gpus[6].name = "NVIDIA H100 80GB HBM3";
  auto options = several(2);
  options.gpu_type = "H100";
  EXPECT_EQ(select_gpus(machine, options).chosen, (std::vector<unsigned>{3, 6}));
  // Both matches, then a partner: 2 and 7 are each NVLinked to one of them; 7 has more free.
  options.min_gpus = options.max_gpus = 3;
  EXPECT_EQ(select_gpus(machine, options).chosen, (std::vector<unsigned>{3, 6, 7}));
}

// two_socket with a compute process on every GPU but `idle` (memory unchanged).
Machine busy_but(const std::vector<unsigned>& idle) {
  Machine machine = two_socket(kFree);
  for (auto& gpu : machine.gpus) {
    if (std::find(idle.begin(), idle.end(), gpu.index) == idle.end()) gpu.processes = std::vector<GpuProcess>{{60000 + gpu.index, 0}};
  }
  return machine;
}

TEST(SelectorTopology, TwoIdleLooseGpusBeatABusyNvlinkPair) {
  // GPUs 3 and 6 sit on different sockets; every NVLink pair runs someone's job.
  EXPECT_EQ(select_gpus(busy_but({3, 6}), several(2)).chosen, (std::vector<unsigned>{3, 6}));
}

TEST(SelectorTopology, TheInterconnectChoosesOnlyAmongGpusOfTheWorstTierNeeded) {
  // One idle GPU: it is taken, and its partner is the busy GPU best connected to it (its
  // NVLink peer 2, the fullest of all) rather than the busy pair 0-1.
  EXPECT_EQ(select_gpus(busy_but({3}), several(2)).chosen, (std::vector<unsigned>{3, 2}));
  // Every GPU busy: one tier, the interconnect decides as before.
  EXPECT_EQ(select_gpus(busy_but({}), several(2)).chosen, (std::vector<unsigned>{1, 0}));
}

SelectionOptions restricted_to(const std::string& allowed, unsigned count = 1) {
  auto options = several(count);
  options.allowed_cpus = cpus(allowed);
  options.cpus_restricted = true;
  return options;
}

TEST(SelectorLocality, PrefersGpusLocalToRestrictedCpusBeforeMemory) {
  EXPECT_EQ(select_gpus(two_socket(kFree), restricted_to("1")).chosen, (std::vector<unsigned>{6}));
  EXPECT_EQ(select_gpus(two_socket(kFree), restricted_to("1", 2)).chosen, (std::vector<unsigned>{4, 5}));
  // More GPUs than are local: all local ones, then the best-connected others.
  EXPECT_EQ(select_gpus(two_socket(kFree), restricted_to("1", 5)).chosen, (std::vector<unsigned>{6, 4, 5, 7, 3}));
}

TEST(SelectorLocality, AnIdleGpuElsewhereComesBeforeABusyLocalOne) {
  // CPU 1 is local to GPUs 4-7; of them only 6 is idle, and idle 3 is on the other socket.
  Machine machine = busy_but({3, 6});
  EXPECT_EQ(select_gpus(machine, restricted_to("1")).chosen, (std::vector<unsigned>{6}));
  EXPECT_EQ(select_gpus(machine, restricted_to("1", 2)).chosen, (std::vector<unsigned>{6, 3}));
  // Past the idle GPUs, the local busy ones, best connected: 6's NVLink peer 7.
  EXPECT_EQ(select_gpus(machine, restricted_to("1", 3)).chosen, (std::vector<unsigned>{6, 3, 7}));
}

TEST(SelectorLocality, UnrestrictedCpusOrNumaIgnoreChangeNothing) {
  auto options = restricted_to("0-1");
  options.cpus_restricted = false;
  EXPECT_EQ(select_gpus(two_socket(kFree), options).chosen, (std::vector<unsigned>{3}));
  options = restricted_to("1");
  options.numa = Locality::ignore;
  EXPECT_EQ(select_gpus(two_socket(kFree), options).chosen, (std::vector<unsigned>{3}));
}

TEST(SelectorLocality, RequireRejectsGpusThatAreNotLocalOrWhoseCpusAreUnknown) {
  Machine machine = two_socket(kFree);
  machine.gpus[5].local_cpus.reset();
  auto options = restricted_to("1", 4);
  options.numa = Locality::require;
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(decision.eligible_count, 3u);
  ASSERT_EQ(decision.verdicts[3].reasons.size(), 1u);
  EXPECT_EQ(decision.verdicts[3].reasons[0].filter, Filter::numa);
  EXPECT_EQ(decision.verdicts[3].reasons[0].value, 0);
  EXPECT_EQ(decision.verdicts[3].reasons[0].text, "0");
  EXPECT_EQ(decision.verdicts[5].reasons[0].filter, Filter::numa_unknown);
  EXPECT_TRUE(decision.verdicts[6].reasons.empty());
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

TEST(Binding, PinsToTheChosenGpusLocalCpusThatAreAllowed) {
  Machine machine = two_socket(kFree);
  machine.gpus[0].local_cpus = cpus("0-23,48-71");
  machine.gpus[4].local_cpus = cpus("24-47,72-95");
  auto plan = plan_binding(machine, {0}, cpus("0-95"));
  EXPECT_EQ(plan.cpus.to_string(), "0-23,48-71");
  EXPECT_EQ(plan.memory_nodes, (std::vector<int>{0}));
  plan = plan_binding(machine, {0, 4}, cpus("20-30"));
  EXPECT_EQ(plan.cpus.to_string(), "20-30");
  EXPECT_EQ(plan.memory_nodes, (std::vector<int>{0, 1}));
  EXPECT_EQ(plan.problem, "");
}

TEST(Binding, SaysWhyItCannotPin) {
  Machine machine = two_socket(kFree);
  machine.gpus[2].local_cpus.reset();
  EXPECT_EQ(plan_binding(machine, {0, 2}, cpus("0-1")).problem,
            "the driver does not report the CPUs local to GPU 2");
  EXPECT_EQ(plan_binding(machine, {4}, cpus("0")).problem,
            "none of the CPUs local to the chosen GPUs (1) is one with-gpu may use (0)");
}

}  // namespace
}  // namespace wg
