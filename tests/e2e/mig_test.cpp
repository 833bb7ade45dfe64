// MIG end to end: the built with-gpu against the NVML double's MIG layouts
// (examples/machines/h100-mig.json: GPU 0 an H100 split as 3g.40gb + 2 x 2g.20gb, the
// first 2g.20gb running a job; GPU 1 a whole H100).

#include <csignal>

#include "support/e2e_fixture.hpp"

namespace wg::test {
namespace {

class Mig : public E2E {
 protected:
  void SetUp() override { use("h100-mig.json"); }

  void use(const std::string& name) {
    machine = example(name);
    write_machine(machine);
  }

  // The MIG- UUID of GPU `gpu`'s instance with GPU instance id `gi`.
  std::string instance(int gpu, int gi) const {
    for (const auto& entry : machine["gpus"][gpu]["mig"]["instances"]) {
      if (entry["gpu_instance_id"] == gi) return entry["uuid"];
    }
    ADD_FAILURE() << "no GI " << gi << " on GPU " << gpu;
    return "";
  }

  // The instance with `uuid` in --status --json: nested in its GPU's mig_instances.
  json status_of(const std::string& uuid) const {
    auto status = json::parse(with_gpu({"--status", "--json"}).out);
    for (const auto& gpu : status["gpus"]) {
      if (!gpu["mig_instances"].is_array()) continue;
      for (const auto& entry : gpu["mig_instances"]) {
        if (entry["uuid"] == uuid) return entry;
      }
    }
    return nullptr;
  }

  json machine;
};

// The command gets one instance by its MIG- UUID: the smallest that fits (a 2g.20gb,
// not the 3g.40gb nor the whole GPU 1), and not the one running a job. A UUID names the
// device whatever the order, so CUDA_DEVICE_ORDER is left as it was.
TEST_F(Mig, ALaunchGetsTheSmallestFittingFreeInstanceByItsMigUuid) {
  EXPECT_EQ(probe({}), instance(0, 4) + "|unset");
  EXPECT_EQ(probe({"--min-memory", "30G"}), instance(0, 1) + "|unset");
  // No instance fits: GPU 1 whole, named by UUID on a machine with MIG (CUDA's ordinals
  // there are not nvidia-smi's).
  EXPECT_EQ(probe({"--min-memory", "50G"}), machine["gpus"][1]["uuid"].get<std::string>() + "|unset");
}

// Claims are keyed by the instance: two jobs hold two instances of one GPU at once, and
// a third launch gets neither.
TEST_F(Mig, TwoJobsHoldTwoInstancesOfOneGpuAtOnce) {
  std::string go = temp / "go";
  auto job = [&](const std::string& name) {
    return start({"--mig-profile", "2g.20gb", "--min-memory", "1G", "--", "sh", "-c",
                  "echo $CUDA_VISIBLE_DEVICES > " + temp / (name + ".cvd") + "; " + shell_wait_for(go)},
                 name);
  };
  auto first = job("first");
  ASSERT_TRUE(appears(temp / "first.cvd"));
  auto second = job("second");
  ASSERT_TRUE(appears(temp / "second.cvd"));
  std::string a = read_file(temp / "first.cvd"), b = read_file(temp / "second.cvd");
  a.pop_back();
  b.pop_back();
  EXPECT_EQ(std::set<std::string>({a, b}), std::set<std::string>({instance(0, 3), instance(0, 4)}));
  EXPECT_EQ(status_of(a)["claims"][0]["pid"], first->pid());
  EXPECT_EQ(status_of(b)["claims"][0]["pid"], second->pid());
  auto third = with_gpu({"--mig-profile", "2g.20gb", "--min-memory", "1G", "true"});
  EXPECT_EQ(third.exit_code, 4) << third.err;
  EXPECT_TRUE(contains(third.err, "GPU 0 MIG 2g.20gb #1: claimed by pid")) << third.err;
  go_ahead(go);
  EXPECT_EQ(first->wait(), 0);
  EXPECT_EQ(second->wait(), 0);
}

// A CUDA process uses one instance and no other device.
TEST_F(Mig, ARequestForSeveralDevicesNeverGetsInstancesAndSaysWhy) {
  auto result = with_gpu({"--min-gpus", "2", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(contains(result.err, "  GPU 0 MIG 3g.40gb #0: a MIG instance: a CUDA process uses only one, and this "
                                   "launch asks for 2 devices\n"))
      << result.err;
  EXPECT_TRUE(contains(result.err, "hint: a CUDA process uses one MIG instance and no other device, so a launch that "
                                   "needs several devices cannot use MIG instances; run one launch per worker"))
      << result.err;
  auto listed = with_gpu({"--gpu", instance(0, 1) + "," + instance(0, 4), "true"});
  EXPECT_EQ(listed.exit_code, 2) << listed.err;
  auto mixed = with_gpu({"--gpu", instance(0, 1) + ",1", "true"});
  EXPECT_EQ(mixed.exit_code, 2) << mixed.err;
}

TEST_F(Mig, AProfileIsAskedForByName) {
  EXPECT_EQ(probe({"--mig-profile", "3g.40gb"}), instance(0, 1) + "|unset");
  auto missing = with_gpu({"--mig-profile", "7g.80gb", "true"});
  EXPECT_EQ(missing.exit_code, 4);
  EXPECT_TRUE(contains(missing.err, "hint: no MIG instance here has profile 7g.80gb (the profiles here: 3g.40gb, "
                                    "2g.20gb)\n"))
      << missing.err;
}

TEST_F(Mig, GpuTakesAMigUuidOrAPrefixOfIt) {
  std::string uuid = instance(0, 1);
  EXPECT_EQ(probe({"--gpu", uuid}), uuid + "|unset");
  EXPECT_EQ(probe({"--gpu", uuid.substr(0, 10)}), uuid + "|unset");
  auto whole = with_gpu({"--gpu", "0", "true"});
  EXPECT_EQ(whole.exit_code, 2) << "GPU 0 is in MIG mode: " << whole.err;
  EXPECT_TRUE(contains(whole.err, instance(0, 1))) << "the message names its instances: " << whole.err;
}

// Slurm, containers and people hand on an instance in either of CUDA's forms.
TEST_F(Mig, AnInheritedInstanceIsHonouredInBothForms) {
  std::string uuid = instance(0, 1);
  EXPECT_EQ(probe({}, {{"CUDA_VISIBLE_DEVICES", uuid}}), uuid + "|unset");
  std::string parent = machine["gpus"][0]["uuid"];
  EXPECT_EQ(probe({}, {{"CUDA_VISIBLE_DEVICES", "MIG-" + parent + "/1/0"}}), uuid + "|unset");
  auto two = with_gpu({"true"}, {{"CUDA_VISIBLE_DEVICES", uuid + "," + instance(0, 4)}});
  EXPECT_EQ(two.exit_code, 2) << two.err;
}

TEST_F(Mig, StatusNestsInstancesUnderTheirGpu) {
  auto result = with_gpu({"--status"}, {{"COLUMNS", "200"}});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto gpu0 = result.out.find("\n  0  NVIDIA H100 80GB HBM3");
  auto three = result.out.find("├ MIG 3g.40gb #0 (GI 1 CI 0)");
  auto last = result.out.find("└ MIG 2g.20gb #2 (GI 4 CI 0)");
  auto gpu1 = result.out.find("\n  1  NVIDIA H100 80GB HBM3");
  EXPECT_TRUE(gpu0 < three && three < last && last < gpu1) << result.out;
  EXPECT_TRUE(contains(result.out, "MIG: 3 instances")) << result.out;
  auto status = json::parse(with_gpu({"--status", "--json"}).out);
  ASSERT_EQ(status["gpus"].size(), 2u);
  ASSERT_EQ(status["gpus"][0]["mig_instances"].size(), 3u);
  auto busy = status["gpus"][0]["mig_instances"][1];
  EXPECT_EQ(busy["uuid"], instance(0, 3));
  EXPECT_EQ(busy["mig"]["parent_uuid"], machine["gpus"][0]["uuid"]);
  EXPECT_EQ(busy["mig"]["profile"], "2g.20gb");
  EXPECT_EQ(busy["processes"][0]["pid"], 61234);
  EXPECT_EQ(busy["utilization_percent"], nullptr) << "unknown on an instance, never zero";
}

TEST_F(Mig, DryRunExplainsEveryInstanceAndTheSplitGpu) {
  auto result = with_gpu({"--dry-run"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "  GPU 0: rejected: in MIG mode: its 3 instances are offered instead")) << result.out;
  EXPECT_TRUE(contains(result.out, "  GPU 0 MIG 2g.20gb #2: chosen")) << result.out;
  auto json_result = json::parse(with_gpu({"--dry-run", "--json"}).out);
  EXPECT_EQ(json_result["gpus"][0]["reasons"][0]["filter"], "mig_split");
}

// A claim on the whole GPU, taken before its MIG mode changed, covers its instances.
TEST_F(Mig, AClaimOnTheWholeGpuKeepsItsInstances) {
  machine["gpus"][0]["mig"]["mode"] = "disabled";
  write_machine(machine);
  std::string go = temp / "go";
  auto whole = start({"--gpu", "0", "--", "sh", "-c", "touch " + temp / "held" + "; " + shell_wait_for(go)}, "whole");
  ASSERT_TRUE(appears(temp / "held"));
  machine["gpus"][0]["mig"]["mode"] = "enabled";
  write_machine(machine);
  auto result = with_gpu({"--mig-profile", "3g.40gb", "true"});
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_TRUE(contains(result.err, "GPU 0 MIG 3g.40gb #0: claimed by pid " + std::to_string(whole->pid()))) << result.err;
  go_ahead(go);
  EXPECT_EQ(whole->wait(), 0);
}

// Unknown whether CUDA sees the GPU or its instances: it is offered neither way.
TEST_F(Mig, AGpuWhoseMigModeCannotBeReadIsNotOffered) {
  machine["gpus"][0]["errors"] = {{"nvmlDeviceGetMigMode", "UNKNOWN"}};
  write_machine(machine);
  EXPECT_EQ(probe({}), machine["gpus"][1]["uuid"].get<std::string>() + "|unset");
  auto status = with_gpu({"--status"}, {{"COLUMNS", "200"}});
  EXPECT_TRUE(contains(status.out, "UNUSABLE: cannot read its MIG mode")) << status.out;
}

// --min-gpus all takes every whole GPU; where there are only instances, one of them.
TEST_F(Mig, AllMeansTheWholeGpusOrOneInstance) {
  EXPECT_EQ(probe({"--min-gpus", "all"}), machine["gpus"][1]["uuid"].get<std::string>() + "|unset");
  use("a100-mig-gap.json");
  EXPECT_EQ(probe({"--min-gpus", "all"}), instance(0, 2) + "|unset");
}

// CUDA would use the GPU's instances, and waiting for the GPU whole would never end.
TEST_F(Mig, AnInheritedValueNamingAGpuInMigModeIsAUsageError) {
  auto result = with_gpu({"--wait", "true"}, {{"CUDA_VISIBLE_DEVICES", machine["gpus"][0]["uuid"]}});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_TRUE(contains(result.err, "is in MIG mode, so CUDA uses its MIG instances, not the whole GPU; name one of "
                                   "them"))
      << result.err;
}

// No release can give a launch of two devices an instance, nor another profile: --wait
// fails at once instead of waiting forever.
TEST_F(Mig, WaitingForWhatMigRulesOutFailsAtOnce) {
  use("a100-mig-gap.json");
  auto several = with_gpu({"--wait", "--timeout", "60", "--min-gpus", "2", "true"});
  EXPECT_EQ(several.exit_code, 4) << several.err;
  EXPECT_TRUE(contains(several.err, "run one launch per worker")) << several.err;
  auto profile = with_gpu({"--wait", "--timeout", "60", "--mig-profile", "7g.80gb", "true"});
  EXPECT_EQ(profile.exit_code, 4) << profile.err;
}

// Instance slots 0 and 3: the empty slots in between are gaps, not the end.
TEST_F(Mig, AGapInInstanceIndicesIsNotTheEnd) {
  use("a100-mig-gap.json");
  auto status = json::parse(with_gpu({"--status", "--json"}).out);
  ASSERT_EQ(status["gpus"][0]["mig_instances"].size(), 2u) << status.dump(2);
  EXPECT_EQ(status["gpus"][0]["mig_instances"][1]["uuid"], instance(0, 2));
  EXPECT_EQ(status["gpus"][0]["mig_instances"][1]["mig"]["profile"], "1c.3g.20gb");
  EXPECT_EQ(probe({"--mig-profile", "1c.3g.20gb"}), instance(0, 2) + "|unset");
}

// Enabling MIG takes effect at the next reset: until then CUDA uses the GPU whole.
TEST_F(Mig, APendingModeLeavesTheWholeGpuInUse) {
  use("mig-pending.json");
  EXPECT_EQ(probe({"--gpu", "0"}), "0|PCI_BUS_ID");
  auto result = with_gpu({"--status"}, {{"COLUMNS", "200"}});
  EXPECT_TRUE(contains(result.out, "MIG pending: enable after reset")) << result.out;
}

}  // namespace
}  // namespace wg::test
