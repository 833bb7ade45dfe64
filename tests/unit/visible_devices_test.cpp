#include "core/visible_devices.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"
#include "support/mig_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;
using test::shuffled;

TEST(Allocation, UnsetMeansNoAllocation) {
  auto allocation = read_allocation(std::nullopt, shuffled());
  ASSERT_TRUE(allocation);
  EXPECT_FALSE(allocation->has_value());
}

TEST(Allocation, EmptyAndMinusOneAllowNoGpu) {
  for (const char* value : {"", " ", "-1"}) {
    auto allocation = read_allocation(std::string(value), shuffled());
    ASSERT_TRUE(allocation) << value;
    ASSERT_TRUE(allocation->has_value());
    EXPECT_TRUE((*allocation)->indices.empty());
  }
}

TEST(Allocation, IntegersArePositionsInPciBusOrder) {
  auto allocation = read_allocation(std::string("0,2"), shuffled());
  ASSERT_TRUE(allocation);
  EXPECT_EQ((*allocation)->indices, std::vector<unsigned>({1, 0}));
  EXPECT_FALSE((*allocation)->named_by_uuid);
}

// Under a device cgroup Slurm numbers a job's GPUs from 0, as CUDA does: a job given
// physical GPUs 2,3 sees CUDA_VISIBLE_DEVICES=0,1.
TEST(Allocation, IntegersArePositionsAmongTheGpusThisProcessCanOpen) {
  auto machine = machine_of({GpuBuilder(0).refused_by_driver(), GpuBuilder(1).refused_by_device_node(1), GpuBuilder(2),
                             GpuBuilder(3)});
  auto allocation = read_allocation(std::string("0,1"), machine);
  ASSERT_TRUE(allocation) << allocation.error().message;
  EXPECT_EQ((*allocation)->indices, std::vector<unsigned>({2, 3}));
  auto first = read_allocation(std::string("0"), machine);
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)->indices, std::vector<unsigned>({2}));
}

TEST(Allocation, RefusedGpusAreSkippedInPciBusOrderToo) {
  Machine machine = shuffled();  // PCI order: 1, 2, 0
  machine.gpus[1].access = DeviceAccess::denied_by_driver;
  auto allocation = read_allocation(std::string("0,1"), machine);
  ASSERT_TRUE(allocation);
  EXPECT_EQ((*allocation)->indices, std::vector<unsigned>({2, 0}));
}

TEST(Allocation, AnEntryBeyondTheGpusThisProcessCanOpenSaysHowManyItCan) {
  auto machine = machine_of({GpuBuilder(0).refused_by_driver(), GpuBuilder(1).refused_by_device_node(1), GpuBuilder(2),
                             GpuBuilder(3)});
  auto allocation = read_allocation(std::string("2"), machine);
  ASSERT_FALSE(allocation);
  EXPECT_EQ(allocation.error().message,
            "CUDA_VISIBLE_DEVICES entry '2' names no GPU (this process can open 2 of this machine's 4 GPUs, "
            "positions 0-1 in PCI bus order)");
  auto none = read_allocation(std::string("0"), machine_of({GpuBuilder(0).refused_by_driver(), GpuBuilder(1).refused_by_driver()}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "CUDA_VISIBLE_DEVICES entry '0' names no GPU (this process can open none of this machine's 2 GPUs)");
}

TEST(Allocation, AcceptsFullAndUniquePrefixUuids) {
  auto allocation = read_allocation(std::string("GPU-a0000002-1111-2222-3333-444455556666,GPU-a0000000"), shuffled());
  ASSERT_TRUE(allocation);
  EXPECT_EQ((*allocation)->indices, std::vector<unsigned>({2, 0}));
  EXPECT_TRUE((*allocation)->named_by_uuid);
}

// h100_split(): GPU 0 whole, GPU 1 in MIG mode as 3g.40gb (2) and two 2g.20gb (3, 4).
TEST(Allocation, AMigUuidIsThatInstance) {
  auto allocation = read_allocation(std::string("MIG-b0000003-aaaa-bbbb-cccc-ddddeeeeffff"), test::h100_split());
  ASSERT_TRUE(allocation) << allocation.error().message;
  EXPECT_EQ((*allocation)->indices, std::vector<unsigned>({3}));
  EXPECT_TRUE((*allocation)->named_by_uuid);
}

// Drivers before R470 name an instance MIG-GPU-<parent uuid>/<gpu instance>/<compute instance>.
TEST(Allocation, TheLegacyMigFormIsThatInstance) {
  auto allocation =
      read_allocation(std::string("MIG-GPU-a0000001-1111-2222-3333-444455556666/3/0"), test::h100_split());
  ASSERT_TRUE(allocation) << allocation.error().message;
  EXPECT_EQ((*allocation)->indices, std::vector<unsigned>({4}));
}

TEST(Allocation, RejectsAnInstanceWithAnotherDeviceWordForWord) {
  auto two = read_allocation(std::string("MIG-b0000002,MIG-b0000003"), test::h100_split());
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().kind, ErrorKind::usage);
  EXPECT_EQ(two.error().message,
            "CUDA_VISIBLE_DEVICES='MIG-b0000002,MIG-b0000003' names two MIG instances; CUDA uses only the first MIG "
            "device of such a value, so set it to one MIG instance (or unset it to let with-gpu choose)");
  auto mixed = read_allocation(std::string("0,MIG-GPU-a0000001/1/0"), test::h100_split());
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().message,
            "CUDA_VISIBLE_DEVICES='0,MIG-GPU-a0000001/1/0' names a MIG instance and a GPU; CUDA uses only the first "
            "MIG device of such a value, so set it to one MIG instance (or unset it to let with-gpu choose)");
}

TEST(Allocation, RejectsMigEntriesThatNameNoInstanceWordForWord) {
  auto unknown = read_allocation(std::string("MIG-4f2c9a1e-0000"), test::h100_split());
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message,
            "CUDA_VISIBLE_DEVICES entry 'MIG-4f2c9a1e-0000' names no MIG instance on this machine "
            "(see with-gpu --status)");
  auto ambiguous = read_allocation(std::string("MIG-b"), test::h100_split());
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().message,
            "CUDA_VISIBLE_DEVICES entry 'MIG-b' matches more than one MIG instance; give more of it");
  auto none = read_allocation(std::string("MIG-4f2c9a1e-0000"), machine_of({}));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "CUDA_VISIBLE_DEVICES entry 'MIG-4f2c9a1e-0000' names no MIG instance (this machine has no GPUs)");
}

TEST(Allocation, PositionsCountGpusNotInstances) {
  auto allocation = read_allocation(std::string("2"), test::h100_split());
  ASSERT_FALSE(allocation);
  EXPECT_EQ(allocation.error().message,
            "CUDA_VISIBLE_DEVICES entry '2' names no GPU (this machine has 2 GPUs, positions 0-1 in PCI bus order)");
}

TEST(Allocation, RejectsEntriesThatNameNoGpu) {
  auto out_of_range = read_allocation(std::string("3"), shuffled());
  ASSERT_FALSE(out_of_range);
  EXPECT_EQ(out_of_range.error().message,
            "CUDA_VISIBLE_DEVICES entry '3' names no GPU (this machine has 3 GPUs, positions 0-2 in PCI bus order)");
  auto unknown_uuid = read_allocation(std::string("GPU-ffff"), shuffled());
  ASSERT_FALSE(unknown_uuid);
  EXPECT_EQ(unknown_uuid.error().message,
            "CUDA_VISIBLE_DEVICES entry 'GPU-ffff' names no GPU on this machine (see with-gpu --status)");
  EXPECT_FALSE(read_allocation(std::string("0,banana"), shuffled()));
}

TEST(Allocation, OnAMachineWithoutGpusEveryEntrySaysSo) {
  Machine none = machine_of({});
  auto position = read_allocation(std::string("0"), none);
  ASSERT_FALSE(position);
  EXPECT_EQ(position.error().message, "CUDA_VISIBLE_DEVICES entry '0' names no GPU (this machine has no GPUs)");
  auto uuid = read_allocation(std::string("GPU-ffff"), none);
  ASSERT_FALSE(uuid);
  EXPECT_EQ(uuid.error().message, "CUDA_VISIBLE_DEVICES entry 'GPU-ffff' names no GPU (this machine has no GPUs)");
}

TEST(Allocation, OneGpuIsCountedInTheSingular) {
  auto allocation = read_allocation(std::string("1"), machine_of({GpuBuilder(0)}));
  ASSERT_FALSE(allocation);
  EXPECT_EQ(allocation.error().message,
            "CUDA_VISIBLE_DEVICES entry '1' names no GPU (this machine has 1 GPU, position 0 in PCI bus order)");
}

}  // namespace
}  // namespace wg
