// Topology on a simulated two-socket server (examples/machines/server-2socket-nvlink.json,
// its sockets shrunk to CPU 0 and CPU 1 so that taskset and --bind work on any machine
// with two CPUs): NVLink pairs, sets of four, locality, --bind, and unknown topology.

#include <sched.h>
#include <unistd.h>

#include <filesystem>

#include "support/e2e_fixture.hpp"

namespace wg::test {
namespace {

class Topology : public E2E {
 protected:
  Topology() {
    json machine = example("server-2socket-nvlink.json");
    for (std::size_t i = 0; i < machine["gpus"].size(); ++i) machine["gpus"][i]["local_cpus"] = i < 4 ? "0" : "1";
    write_machine(machine);
  }

  // with-gpu ARGS run under `taskset -c CPUS`.
  ProcessResult under_taskset(const std::string& cpus, std::vector<std::string> args) const {
    args.insert(args.begin(), {"/usr/bin/taskset", "-c", cpus, WITH_GPU_BINARY});
    return run_process(args, env);
  }

  // The shipped machine runs a job on every GPU but 3 and 6; this gives those two a
  // process as well (no memory), so that every GPU is in the busy tier and the
  // interconnect alone decides among them.
  void everyone_busy() const {
    json machine = example("server-2socket-nvlink.json");
    for (std::size_t i = 0; i < machine["gpus"].size(); ++i) {
      machine["gpus"][i]["local_cpus"] = i < 4 ? "0" : "1";
      if (machine["gpus"][i]["processes"].empty()) {
        machine["gpus"][i]["processes"] = json::array({{{"pid", 61000 + int(i)}, {"used_memory_mib", 0}}});
      }
    }
    write_machine(machine);
  }

  static bool two_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    return sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(0, &set) && CPU_ISSET(1, &set);
  }
};

TEST_F(Topology, TwoIdleLooseGpusBeatABusyNvlinkPair) {
  // GPUs 3 and 6, on different sockets, are the only idle ones (79 GiB free each); every
  // NVLink pair runs someone's job.
  EXPECT_EQ(probe({"--min-gpus", "2"}), "3,6|PCI_BUS_ID");
  auto dry = with_gpu({"--min-gpus", "2", "--dry-run", "true"});
  EXPECT_TRUE(contains(dry.out, "on GPU 3,6 (linked by SYS)\n")) << dry.out;
  EXPECT_TRUE(contains(dry.out, "  GPU 0: eligible, not needed (60.0 GiB free), tier: busy (1 process, 19.5 GiB used)"))
      << dry.out;
  EXPECT_TRUE(contains(dry.out, "  GPU 6: chosen (79.2 GiB free), tier: idle")) << dry.out;
  // Past the idle GPUs, the busy ones best connected to them: 3's and 6's NVLink peers.
  EXPECT_EQ(probe({"--min-gpus", "4"}), "3,6,7,2|PCI_BUS_ID");
}

TEST_F(Topology, WithinATierTheNvlinkPairBeatsTwoLooseGpusWithMoreFreeMemory) {
  everyone_busy();
  // GPUs 3 and 6 have the most free memory but sit on different sockets; 0-1 is an NV12
  // pair whose fuller GPU has more free than any other pair's.
  EXPECT_EQ(probe({"--min-gpus", "2"}), "1,0|PCI_BUS_ID");
}

TEST_F(Topology, TopologyIgnoreTakesTheGpusWithTheMostFreeMemory) {
  EXPECT_EQ(probe({"--min-gpus", "2", "--topology", "ignore"}), "3,6|PCI_BUS_ID");
  EXPECT_EQ(probe({"--min-gpus", "4", "--topology", "ignore"}), "3,6,1,0|PCI_BUS_ID");
}

TEST_F(Topology, FourOfEightComeFromOneSocketAsTwoNvlinkPairs) {
  everyone_busy();
  EXPECT_EQ(probe({"--min-gpus", "4"}), "6,4,5,7|PCI_BUS_ID");
  auto result = with_gpu({"--min-gpus", "4", "true"});
  EXPECT_TRUE(contains(result.err, " (linked by NODE at worst); CUDA_VISIBLE_DEVICES=6,4,5,7\n")) << result.err;
  auto pair = with_gpu({"--min-gpus", "2", "--dry-run", "true"});
  EXPECT_TRUE(contains(pair.out, "on GPU 1,0 (linked by NV12)\n")) << pair.out;
}

TEST_F(Topology, UnderTasksetGpusLocalToThoseCpusComeFirst) {
  if (!two_cpus()) GTEST_SKIP() << "needs CPUs 0 and 1";
  everyone_busy();
  auto local = under_taskset("1", {"--", kProbe[0], kProbe[1], kProbe[2]});
  EXPECT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(local.out, "6|PCI_BUS_ID\n");
  auto pair = under_taskset("1", {"--min-gpus", "2", "--", kProbe[0], kProbe[1], kProbe[2]});
  EXPECT_EQ(pair.out, "4,5|PCI_BUS_ID\n");
  auto ignored = under_taskset("1", {"--numa", "ignore", "--", kProbe[0], kProbe[1], kProbe[2]});
  EXPECT_EQ(ignored.out, "3|PCI_BUS_ID\n");
  EXPECT_EQ(probe({}), "3|PCI_BUS_ID");  // all CPUs allowed: no preference
}

TEST_F(Topology, UnderTasksetAnIdleGpuElsewhereComesBeforeABusyLocalOne) {
  if (!two_cpus()) GTEST_SKIP() << "needs CPUs 0 and 1";
  // CPU 1 is local to GPUs 4-7, of which only 6 is idle; idle 3 sits on socket 0.
  auto pair = under_taskset("1", {"--min-gpus", "2", "--", kProbe[0], kProbe[1], kProbe[2]});
  EXPECT_EQ(pair.exit_code, 0) << pair.err;
  EXPECT_EQ(pair.out, "6,3|PCI_BUS_ID\n");
}

TEST_F(Topology, NumaRequireRejectsGpusThatAreNotLocal) {
  if (!two_cpus()) GTEST_SKIP() << "needs CPUs 0 and 1";
  auto result = under_taskset("1", {"--numa", "require", "--min-gpus", "5", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(contains(result.err, "with-gpu: error: no suitable GPU: need 5, 4 eligible\n")) << result.err;
  EXPECT_TRUE(contains(result.err, "  GPU 0: not local to the CPUs with-gpu may use (--numa require; its CPUs: 0, "
                                   "NUMA node 0)\n"))
      << result.err;
  auto dry = under_taskset("0", {"--numa", "require", "--dry-run", "--json"});
  auto reason = json::parse(dry.out)["gpus"][4]["reasons"][0];
  EXPECT_EQ(reason["filter"], "numa");
  EXPECT_EQ(reason["value"], 1);
  EXPECT_EQ(reason["detail"], "1");
}

TEST_F(Topology, BindPinsTheCommandToItsGpusCpusAndPrefersItsNumaNode) {
  if (!two_cpus()) GTEST_SKIP() << "needs CPUs 0 and 1";
  std::string show = "grep Cpus_allowed_list /proc/self/status; grep -c prefer:0 /proc/self/numa_maps || true";
  auto result = with_gpu({"--bind", "--gpu", "3", "--", "sh", "-c", show});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "Cpus_allowed_list:\t0\n")) << result.out;
  EXPECT_TRUE(contains(result.err, "with-gpu: bound to CPU 0; memory preferred on NUMA node 0\n")) << result.err;
  if (std::filesystem::exists("/proc/self/numa_maps")) {
    EXPECT_FALSE(contains(result.out, "\n0\n")) << "no mapping prefers node 0:\n" << result.out;
  }
  auto other = with_gpu({"--bind", "--gpu", "6", "--", "grep", "Cpus_allowed_list", "/proc/self/status"});
  EXPECT_EQ(other.out, "Cpus_allowed_list:\t1\n");
  EXPECT_TRUE(contains(other.err, "with-gpu: bound to CPU 1; ")) << other.err;
}

TEST_F(Topology, DryRunShowsWhatBindWouldDo) {
  auto result = with_gpu({"--dry-run", "--bind", "--gpu", "6", "true"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "  CUDA_DEVICE_ORDER=PCI_BUS_ID\n  --bind: CPU 1; memory preferred on NUMA node 1\n"))
      << result.out;
  auto json_out = json::parse(with_gpu({"--dry-run", "--json", "--bind", "--gpu", "0,6", "true"}).out);
  EXPECT_EQ(json_out["binding"], (json{{"cpus", "0-1"}, {"memory_nodes", {0, 1}}, {"problem", nullptr}}));
  EXPECT_TRUE(json::parse(with_gpu({"--dry-run", "--json", "true"}).out)["binding"].is_null());
}

TEST_F(Topology, BindWithinTasksetNeverWidensTheCpus) {
  if (!two_cpus()) GTEST_SKIP() << "needs CPUs 0 and 1";
  auto result = under_taskset("0", {"--bind", "--gpu", "6", "--", "grep", "Cpus_allowed_list", "/proc/self/status"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "Cpus_allowed_list:\t0\n");
  EXPECT_TRUE(contains(result.err, "with-gpu: warning: --bind: none of the CPUs local to the chosen GPUs (1) is one "
                                   "with-gpu may use (0); the command keeps the CPUs with-gpu was given\n"))
      << result.err;
}

TEST_F(Topology, StatusShowsNumaNodesLocalCpusAndTheMatrix) {
  auto status = with_gpu({"--status"});
  EXPECT_TRUE(contains(status.out, "PROCS  NUMA  CPUS  STATE")) << status.out;
  auto matrix = with_gpu({"--status", "--topology"});
  EXPECT_TRUE(contains(matrix.out, "      GPU0  GPU1  GPU2  GPU3  GPU4  GPU5  GPU6  GPU7  CPU AFFINITY  NUMA\n"
                                   "GPU0  X     NV12  NODE  NODE  SYS   SYS   SYS   SYS   0             0\n"))
      << matrix.out;
  EXPECT_TRUE(contains(matrix.out, "GPU6  SYS   SYS   SYS   SYS   NODE  NODE  X     NV12  1             1\n"));
  auto gpus = json::parse(with_gpu({"--status", "--json"}).out)["gpus"];
  EXPECT_EQ(gpus[5]["numa_node"], 1);
  EXPECT_EQ(gpus[5]["local_cpus"], "1");
  EXPECT_EQ(gpus[0]["links"][0], (json{{"gpu", 1}, {"label", "NV12"}, {"nvlinks", 12}, {"pcie", "PIX"}}));
  EXPECT_EQ(gpus[0]["links"][3], (json{{"gpu", 4}, {"label", "SYS"}, {"nvlinks", 0}, {"pcie", "SYS"}}));
}

// A machine whose driver reports no topology at all (a VM, an old driver).
class UnknownTopology : public E2E {
 protected:
  UnknownTopology() { write_machine(machine_of({gpu(0, 30000), gpu(1, 20000), gpu(2, 40000)})); }
};

TEST_F(UnknownTopology, SeveralGpusAreChosenMemoryFirst) {
  EXPECT_EQ(probe({"--min-gpus", "2"}), "2,0|PCI_BUS_ID");
}

TEST_F(UnknownTopology, NumaRequireRejectsEveryGpuWithTheReason) {
  auto result = with_gpu({"--numa", "require", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(contains(result.err, "  GPU 1: local CPUs not reported by the driver (--numa require)\n")) << result.err;
}

TEST_F(UnknownTopology, BindWarnsAndStillRunsTheCommand) {
  auto result = with_gpu({"--bind", "--", "sh", "-c", "echo ran"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "ran\n");
  EXPECT_TRUE(contains(result.err, "with-gpu: warning: --bind: the driver does not report the CPUs local to GPU 2; "
                                   "the command keeps the CPUs with-gpu was given\n"))
      << result.err;
}

TEST_F(UnknownTopology, StatusShowsUnknownsAsSuch) {
  auto matrix = with_gpu({"--status", "--topology"});
  EXPECT_TRUE(contains(matrix.out, "GPU1  ?     X     ?     n/a           n/a\n")) << matrix.out;
  auto gpus = json::parse(with_gpu({"--status", "--json"}).out)["gpus"];
  EXPECT_TRUE(gpus[0]["numa_node"].is_null());
  EXPECT_TRUE(gpus[0]["local_cpus"].is_null());
  EXPECT_EQ(gpus[0]["links"][0], (json{{"gpu", 1}, {"label", nullptr}, {"nvlinks", 0}, {"pcie", nullptr}}));
}

}  // namespace
}  // namespace wg::test
