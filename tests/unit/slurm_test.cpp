#include "core/slurm.hpp"

#include <gtest/gtest.h>

namespace wg {
namespace {

TEST(SlurmJob, IsReadOnlyInsideAJob) {
  EXPECT_FALSE(slurm_job({}));
  EXPECT_FALSE(slurm_job({std::string("")}));
  auto job = slurm_job({std::string("14")});
  ASSERT_TRUE(job);
  EXPECT_EQ(describe_job(*job), "Slurm job 14");
  EXPECT_EQ(step_key(*job), "14");
  EXPECT_FALSE(job->gpu_count);
}

TEST(SlurmJob, TheStepsGpusCountFirstThenTheJobsThenTheNodeCount) {
  auto step = slurm_job({"14", "0", "0,1", "2,3,4", "2"});
  ASSERT_TRUE(step);
  EXPECT_EQ(describe_job(*step), "Slurm job 14 step 0");
  EXPECT_EQ(step_key(*step), "14.0");
  EXPECT_EQ(step->gpu_count, 3u);
  EXPECT_EQ(step->gpus_variable, "SLURM_STEP_GPUS=2,3,4");
  auto batch = slurm_job({"14", std::nullopt, "0,1", "2,3,4", "2"});  // a batch script has no step
  EXPECT_EQ(batch->gpu_count, 2u);
  EXPECT_EQ(batch->gpus_variable, "SLURM_JOB_GPUS=0,1");
  auto counted = slurm_job({"14", std::nullopt, std::nullopt, std::nullopt, "4"});
  EXPECT_EQ(counted->gpu_count, 4u);
  EXPECT_EQ(counted->gpus_variable, "SLURM_GPUS_ON_NODE=4");
}

TEST(SlurmJob, ReadsRangesAndRefusesGarbageAsACount) {
  EXPECT_EQ(slurm_job({"1", std::nullopt, "0-3,6"})->gpu_count, 5u);
  EXPECT_EQ(slurm_job({"1", std::nullopt, "3-1"})->gpu_count, std::nullopt);
  EXPECT_EQ(slurm_job({"1", std::nullopt, "gpu:a100"})->gpu_count, std::nullopt);
  EXPECT_EQ(slurm_job({"1", std::nullopt, ""})->gpu_count, 0u);
}

TEST(SlurmJob, GivenNoGpusOnlyWithoutACountAndWithoutCudaVisibleDevices) {
  auto none = *slurm_job({"14"});
  EXPECT_TRUE(given_no_gpus(none, std::nullopt));
  EXPECT_FALSE(given_no_gpus(none, std::string("0")));
  EXPECT_FALSE(given_no_gpus(*slurm_job({"14", std::nullopt, "0"}), std::nullopt));
}

}  // namespace
}  // namespace wg
