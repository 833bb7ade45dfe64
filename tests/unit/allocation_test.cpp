#include "core/allocation.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"
#include "support/mig_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;

TEST(Allocation, CountsEntriesAsTheVariableIsRead) {
  EXPECT_EQ(visible_entries(std::nullopt), std::nullopt);
  EXPECT_EQ(visible_entries(std::string("")), 0u);
  EXPECT_EQ(visible_entries(std::string("-1")), 0u);
  EXPECT_EQ(visible_entries(std::string("0,1")), 2u);
  EXPECT_EQ(visible_entries(std::string("GPU-a,GPU-b,GPU-c")), 3u);
}

TEST(Allocation, RefusesAJobGivenNoGpusWordForWord) {
  EXPECT_EQ(slurm_refusal({slurm_job({"14", "0"}), std::nullopt}),
            "Slurm job 14 step 0 was given no GPUs; ask Slurm for them (sbatch/srun --gres=gpu:N or --gpus=N), or "
            "pass --ignore-slurm to choose among every GPU of the node");
  EXPECT_FALSE(slurm_refusal({std::nullopt, std::nullopt}));
  EXPECT_FALSE(slurm_refusal({slurm_job({"14", "0", std::nullopt, "0"}), std::string("0")}));
}

TEST(Allocation, WarnsOnlyWhenSlurmAndTheVariableDisagree) {
  Given agree{slurm_job({"14", "0", std::nullopt, "2,3"}), std::string("0,1")};
  EXPECT_FALSE(slurm_count_warning(agree));
  Given odd{slurm_job({"14", "0", std::nullopt, "2,3"}), std::string("0")};
  EXPECT_EQ(slurm_count_warning(odd), "Slurm job 14 step 0 was given 2 GPUs (SLURM_STEP_GPUS=2,3) but "
                                      "CUDA_VISIBLE_DEVICES=0 names 1; using CUDA_VISIBLE_DEVICES");
}

TEST(Allocation, NamesWhoGaveTooFewGpus) {
  Given slurm{slurm_job({"14", "0", std::nullopt, "2,3"}), std::string("0,1")};
  EXPECT_EQ(too_few_headline(3, 2, slurm),
            "no suitable GPU: need 3, but Slurm job 14 step 0 was given 2 GPUs (CUDA_VISIBLE_DEVICES=0,1)");
  EXPECT_EQ(too_few_headline(2, 1, {std::nullopt, std::string("3")}),
            "no suitable GPU: need 2, but the inherited allocation allows 1 GPU (CUDA_VISIBLE_DEVICES=3)");
  EXPECT_EQ(share_of_job(1, 2, slurm), "1 of 2 GPUs of Slurm job 14 step 0");
  EXPECT_EQ(share_of_job(1, 2, {std::nullopt, std::string("0,1")}), "");
}

TEST(Allocation, AllCountsTheUsableGpusThisProcessMayOpenWithinTheAllocation) {
  Machine machine = test::machine_of({GpuBuilder(0), GpuBuilder(1), GpuBuilder(2), GpuBuilder(3)});
  machine.gpus[1].error = "GPU is lost";
  machine.gpus[2].access = DeviceAccess::denied_by_device_node;
  EXPECT_EQ(whole_gpus(machine, std::nullopt), 2u);
  EXPECT_EQ(whole_gpus(machine, std::vector<unsigned>{0, 1}), 1u);
}

TEST(Allocation, StatusDescribesWhatWasGiven) {
  Machine machine = test::machine_of({GpuBuilder(0), GpuBuilder(1), GpuBuilder(2), GpuBuilder(3)});
  EXPECT_FALSE(describe_allocation({std::nullopt, std::nullopt}, machine));
  auto plain = describe_allocation({std::nullopt, std::string("1,3")}, machine);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->source, AllocationView::Source::cuda_visible_devices);
  EXPECT_EQ(plain->gpus, (std::vector<unsigned>{1, 3}));
  EXPECT_EQ(plain->summary, "CUDA_VISIBLE_DEVICES=1,3: GPUs 1, 3");
  auto empty = describe_allocation({slurm_job({"15"}), std::nullopt}, machine);
  EXPECT_TRUE(empty->gpus.empty());
  EXPECT_EQ(empty->summary, "Slurm job 15 was given no GPUs (Slurm left no CUDA_VISIBLE_DEVICES)");
  auto bad = describe_allocation({std::nullopt, std::string("7")}, machine);
  EXPECT_EQ(bad->summary.rfind("CUDA_VISIBLE_DEVICES=7: CUDA_VISIBLE_DEVICES entry '7' names no GPU", 0), 0u)
      << bad->summary;
}

// h100_split(): GPU 0 whole, GPU 1 in MIG mode as 3g.40gb (2) and two 2g.20gb (3, 4).
TEST(Allocation, AllCountsWholeGpusOnly) {
  Machine machine = test::h100_split();
  EXPECT_EQ(whole_gpus(machine, std::nullopt), 1u);
  EXPECT_EQ(whole_gpus(machine, std::vector<unsigned>{3}), 0u);
  machine.gpus[0].error = "GPU is lost";
  EXPECT_EQ(whole_gpus(machine, std::nullopt), 0u);
}

TEST(Allocation, StatusNamesAnInheritedInstanceByItsLabel) {
  auto view = describe_allocation({std::nullopt, std::string("MIG-b0000004")}, test::h100_split());
  ASSERT_TRUE(view);
  EXPECT_EQ(view->gpus, (std::vector<unsigned>{4}));
  EXPECT_EQ(view->summary, "CUDA_VISIBLE_DEVICES=MIG-b0000004: GPU 1 MIG 2g.20gb #2");
}

}  // namespace
}  // namespace wg
