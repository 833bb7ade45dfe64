// End-to-end: with-gpu inside a Slurm job, as the job's environment describes it (the
// real Slurm with device cgroups is scripts/slurm-test.sh).

#include "support/e2e_fixture.hpp"

namespace wg::test {
namespace {

class InSlurm : public E2E {
 protected:
  InSlurm() { write_machine(machine_of({gpu(0), gpu(1), gpu(2), gpu(3)})); }
  // A step of job 14 given two GPUs, numbered from 0 as Slurm does under device cgroups.
  Env step_with_two{{"SLURM_JOB_ID", "14"}, {"SLURM_STEP_ID", "0"}, {"SLURM_STEP_GPUS", "2,3"},
                    {"SLURM_GPUS_ON_NODE", "2"}, {"CUDA_VISIBLE_DEVICES", "0,1"}};
};

TEST_F(InSlurm, AJobGivenNoGpusIsRefusedSayingHowToAskForThem) {
  auto refused = with_gpu({"--", "true"}, {{"SLURM_JOB_ID", "14"}, {"SLURM_STEP_ID", "0"}});
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_EQ(refused.err, "with-gpu: error: Slurm job 14 step 0 was given no GPUs; ask Slurm for them (sbatch/srun "
                         "--gres=gpu:N or --gpus=N), or pass --ignore-slurm to choose among every GPU of the node\n");
  auto dry = with_gpu({"--dry-run", "--", "true"}, {{"SLURM_JOB_ID", "14"}});
  EXPECT_EQ(dry.exit_code, 4) << dry.out;
}

TEST_F(InSlurm, IgnoreSlurmChoosesAmongEveryGpuOfTheNode) {
  EXPECT_EQ(probe({"--ignore-slurm"}, {{"SLURM_JOB_ID", "14"}}), "0|PCI_BUS_ID");
  std::ofstream(temp / "config.toml") << "[defaults]\nignore_slurm = true\n";
  EXPECT_EQ(probe({"--config", temp / "config.toml"}, {{"SLURM_JOB_ID", "14"}}), "0|PCI_BUS_ID");
}

TEST_F(InSlurm, AskingForMoreThanTheAllocationNamesIt) {
  auto refused = with_gpu({"--min-gpus", "3", "--", "true"}, step_with_two);
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_TRUE(contains(refused.err, "with-gpu: error: no suitable GPU: need 3, but Slurm job 14 step 0 was given 2 "
                                    "GPUs (CUDA_VISIBLE_DEVICES=0,1)\n"))
      << refused.err;
}

TEST_F(InSlurm, TheSummarySaysWhichShareOfTheAllocationItUses) {
  auto result = with_gpu({"--", "true"}, step_with_two);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "with-gpu: using GPU 0 (NVIDIA A100-SXM4-40GB, 39.1 GiB free) (1 of 2 GPUs of "
                                   "Slurm job 14 step 0); CUDA_VISIBLE_DEVICES=0\n"))
      << result.err;
}

TEST_F(InSlurm, SlurmsCountAndCudaVisibleDevicesThatDisagreeAreWarnedAbout) {
  Env odd = step_with_two;
  odd["CUDA_VISIBLE_DEVICES"] = "0,1,2";
  auto result = with_gpu({"--", "true"}, odd);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.err, "with-gpu: warning: Slurm job 14 step 0 was given 2 GPUs (SLURM_STEP_GPUS=2,3) "
                                   "but CUDA_VISIBLE_DEVICES=0,1,2 names 3; using CUDA_VISIBLE_DEVICES\n"))
      << result.err;
}

TEST_F(InSlurm, MinGpusAllTakesTheWholeAllocation) {
  EXPECT_EQ(probe({"--min-gpus", "all"}, step_with_two), "0,1|PCI_BUS_ID");
  EXPECT_EQ(probe({"--min-gpus", "all"}, {{"CUDA_VISIBLE_DEVICES", "1,3"}}), "1,3|PCI_BUS_ID");
  EXPECT_EQ(probe({"--min-gpus", "all"}), "0,1,2,3|PCI_BUS_ID");
  auto limited = with_gpu({"--min-gpus", "all", "--max-gpus", "2", "--", "true"});
  EXPECT_EQ(limited.exit_code, 2);
  EXPECT_EQ(limited.err, "with-gpu: error: --min-gpus all takes every GPU of the allocation; --max-gpus cannot limit "
                         "it\n");
}

TEST_F(InSlurm, StatusShowsTheAllocationAndMarksTheGpusOutsideIt) {
  auto status = with_gpu({"--status"}, step_with_two);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "allocation: Slurm job 14 step 0, 2 GPUs (CUDA_VISIBLE_DEVICES=0,1): GPUs 0, 1\n"))
      << status.out;
  std::istringstream lines(status.out);
  std::string line;
  int outside = 0;
  while (std::getline(lines, line)) outside += contains(line, "OUTSIDE ALLOCATION · ") ? 1 : 0;
  EXPECT_EQ(outside, 2) << status.out;
  auto json_status = json::parse(with_gpu({"--status", "--json"}, step_with_two).out);
  json allocation = json_status["allocation"];
  EXPECT_EQ(allocation["source"], "slurm");
  EXPECT_EQ(allocation["job_id"], "14");
  EXPECT_EQ(allocation["step_id"], "0");
  EXPECT_EQ(allocation["slurm_gpu_count"], 2);
  EXPECT_EQ(allocation["cuda_visible_devices"], "0,1");
  EXPECT_EQ(allocation["gpus"], json::array({0, 1}));
  EXPECT_EQ(json_status["gpus"][0]["in_allocation"], true);
  EXPECT_EQ(json_status["gpus"][3]["in_allocation"], false);
  auto none = json::parse(with_gpu({"--status", "--json"}, {{"SLURM_JOB_ID", "15"}}).out);
  EXPECT_EQ(none["allocation"]["gpus"], json::array());
  EXPECT_EQ(none["allocation"]["summary"], "Slurm job 15 was given no GPUs (Slurm left no CUDA_VISIBLE_DEVICES)");
  EXPECT_TRUE(json::parse(with_gpu({"--status", "--json"}).out)["allocation"].is_null());
}

TEST_F(InSlurm, ATaskOfTheSameStepHoldingTheGpusPointsToShare) {
  for (const auto& [name, value] : step_with_two) env[name] = value;
  auto holder = start({"--min-gpus", "2", "--", "sleep", "30"}, "holder");
  ASSERT_FALSE(wait_for_claims(0, "sleep 30").empty());
  auto refused = with_gpu({"--min-gpus", "2", "--", "true"});
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_TRUE(contains(refused.err, "(root, sleep 30), a task of this same Slurm job step (tasks that share GPUs "
                                    "need --share)"))
      << refused.err;
  auto other_job = with_gpu({"--min-gpus", "2", "--", "true"}, {{"SLURM_JOB_ID", "99"}});
  EXPECT_FALSE(contains(other_job.err, "same Slurm job step")) << other_job.err;
}

}  // namespace
}  // namespace wg::test
