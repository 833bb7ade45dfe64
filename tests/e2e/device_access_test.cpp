// Inside a device cgroup (issue 17): a Slurm job given physical GPUs 2 and 3 sees
// CUDA_VISIBLE_DEVICES=0,1, because CUDA counts only the GPUs it can open, and NVML
// refuses the other GPUs' handles with NO_PERMISSION while still counting them. The NVML
// double refuses a handle the same way when its "device_path" cannot be opened; here that
// path is a root-owned 0600 file and with-gpu runs as the unprivileged wg-alice (root opens
// any file). Elsewhere (not root, no setpriv or useradd) each test skips and says why.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <memory>

#include "support/e2e_fixture.hpp"
#include "support/neighbour.hpp"

namespace wg::test {
namespace {

namespace fs = std::filesystem;

// wg-alice, and copies of the binaries she can run: the build directory may be private to root.
struct Published {
  std::optional<Neighbour> alice;
  std::string skip_reason;
  std::unique_ptr<SharedBinaries> binaries;
  std::string with_gpu;
  std::string nvml_double;
};

Published& published() {
  static Published instance;
  return instance;
}

class DeviceCgroup : public E2E {
 protected:
  static void SetUpTestSuite() {
    Published& p = published();
    auto alice = ensure_neighbour("wg-alice");
    if (!alice.user) {
      p.skip_reason = "device-access tests run with-gpu as an unprivileged user and cannot have one here: " +
                      alice.reason;
      return;
    }
    p.alice = alice.user;
    p.binaries = std::make_unique<SharedBinaries>("with-gpu-devaccess-bin");
    if (!p.binaries->ok()) {
      p.skip_reason = "cannot create a directory for the binaries under /tmp";
      return;
    }
    p.with_gpu = p.binaries->publish(WITH_GPU_BINARY, "with-gpu");
    p.nvml_double = p.binaries->publish(NVML_DOUBLE, "libnvidia-ml-double.so");
  }

  static void TearDownTestSuite() { published().binaries.reset(); }

  DeviceCgroup() {
    world = make_world_dir("with-gpu-devaccess");  // wg-alice makes her lock directory here
    env["NVML_DOUBLE_MACHINE"] = world + "/machine.json";
    env["WITH_GPU_LOCK_DIR"] = world + "/locks";
    env["WITH_GPU_NVML_LIBRARY"] = published().nvml_double;
  }

  ~DeviceCgroup() override {
    std::error_code ignored;
    if (!world.empty()) fs::remove_all(world, ignored);
  }

  void SetUp() override {
    if (!published().skip_reason.empty()) GTEST_SKIP() << published().skip_reason;
    ASSERT_FALSE(world.empty()) << "cannot create a shared directory under /tmp";
    // Another job's device nodes: root's, 0600 (EACCES to wg-alice, as a device cgroup's EPERM).
    std::string denied = world + "/nvidia-other-job";
    std::ofstream(denied) << "";
    chmod(denied.c_str(), 0600);
    std::string ours = world + "/nvidia-this-job";
    std::ofstream(ours) << "";
    chmod(ours.c_str(), 0666);
    json gpus = json::array();
    for (int i = 0; i < 4; ++i) {
      json one = gpu(i);
      one["minor_number"] = i;
      one["device_path"] = i < 2 ? denied : ours;
      gpus.push_back(one);
    }
    std::string path = env["NVML_DOUBLE_MACHINE"];
    std::ofstream(path) << machine_of(gpus).dump(2);
    chmod(path.c_str(), 0644);
  }

  // with-gpu ARGS, run as wg-alice with `extra` added to the environment.
  ProcessResult as_alice(std::vector<std::string> args, const Env& extra = {}) const {
    args.insert(args.begin(), published().with_gpu);
    Env merged = env;
    for (const auto& [name, value] : extra) merged[name] = value;
    return run_process(published().alice->command(args), merged);
  }

  // with-gpu ARGS -- probe as wg-alice: what the command was given, trimmed.
  std::string probe_as_alice(std::vector<std::string> args, const Env& extra = {}) const {
    args.push_back("--");
    args.insert(args.end(), kProbe.begin(), kProbe.end());
    auto result = as_alice(args, extra);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::string out = result.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  static std::string uuid(int index) { return gpu(index)["uuid"]; }

  std::string world;
};

TEST_F(DeviceCgroup, IntegerEntriesCountOnlyTheGpusThisProcessCanOpen) {
  EXPECT_EQ(probe_as_alice({"--min-gpus", "2"}, {{"CUDA_VISIBLE_DEVICES", "0,1"}}),
            uuid(2) + "," + uuid(3) + "|unset");
}

TEST_F(DeviceCgroup, TheFirstPositionIsTheFirstGpuThisProcessCanOpen) {
  EXPECT_EQ(probe_as_alice({}, {{"CUDA_VISIBLE_DEVICES", "0"}}), uuid(2) + "|unset");
}

TEST_F(DeviceCgroup, WithoutAnAllocationOnlyTheGpusThisProcessCanOpenAreCandidates) {
  EXPECT_EQ(probe_as_alice({"--min-gpus", "2"}), uuid(2) + "," + uuid(3) + "|unset");
  auto three = as_alice({"--min-gpus", "3", "--", "true"});
  EXPECT_EQ(three.exit_code, 4) << three.err;
  EXPECT_NE(three.err.find("  GPU 0: no access: NVML refuses it to this process (NO_PERMISSION), as a device cgroup "
                           "does outside this job's allocation\n"),
            std::string::npos)
      << three.err;
}

TEST_F(DeviceCgroup, GpuNumbersOfTheGpuOptionStayNvmlIndices) {
  EXPECT_EQ(probe_as_alice({"--gpu", "3"}), uuid(3) + "|unset");
  auto refused = as_alice({"--gpu", "1", "--", "true"});
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_NE(refused.err.find("GPU 1: no access"), std::string::npos) << refused.err;
}

TEST_F(DeviceCgroup, StatusListsEveryGpuAndMarksThoseThisProcessCannotOpen) {
  auto result = as_alice({"--status", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  json status = json::parse(result.out);
  ASSERT_EQ(status["gpus"].size(), 4u);
  for (int i = 0; i < 4; ++i) {
    const json& one = status["gpus"][i];
    EXPECT_EQ(one["index"], i);
    EXPECT_EQ(one["accessible"], i >= 2) << one.dump();
    EXPECT_EQ(one["usable"], i >= 2) << one.dump();
    EXPECT_TRUE(one["error"].is_null()) << one.dump();  // refused, not broken
  }
  auto table = as_alice({"--status"});
  EXPECT_NE(table.out.find("NO ACCESS: NVML refuses it to this process (NO_PERMISSION)"), std::string::npos)
      << table.out;
}

}  // namespace
}  // namespace wg::test
