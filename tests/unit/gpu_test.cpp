#include "core/gpu.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

using test::MiB;

constexpr std::uint64_t kTotal = 40960 * MiB;

std::optional<MemoryFault> fault_of(std::uint64_t used, std::uint64_t free, std::optional<std::uint64_t> reserved = {}) {
  Gpu gpu;
  set_memory(gpu, kTotal, used, free, reserved);
  EXPECT_EQ(gpu.memory_free_bytes.has_value(), !gpu.impossible_memory.has_value());
  return gpu.impossible_memory ? std::optional(gpu.impossible_memory->fault) : std::nullopt;
}

TEST(GpuMemory, APlausibleReadingIsKeptAsReported) {
  Gpu gpu;
  set_memory(gpu, kTotal, 10000 * MiB, 30000 * MiB, 960 * MiB);
  EXPECT_EQ(gpu.memory_total_bytes, kTotal);
  EXPECT_EQ(gpu.memory_used_bytes, 10000 * MiB);
  EXPECT_EQ(gpu.memory_free_bytes, 30000 * MiB);
  EXPECT_EQ(gpu.memory_reserved_bytes, 960 * MiB);
  EXPECT_FALSE(gpu.impossible_memory);
  EXPECT_FALSE(fault_of(0, kTotal));           // all free
  EXPECT_FALSE(fault_of(kTotal, 0));           // all used
  EXPECT_FALSE(fault_of(kTotal - 1, 1, 0));    // exactly the total
}

TEST(GpuMemory, ReadingsAboveTheTotalLeaveMemoryUnknownAndSayWhich) {
  EXPECT_EQ(fault_of(0, kTotal + 1), MemoryFault::free_above_total);
  EXPECT_EQ(fault_of(kTotal + 1, 0), MemoryFault::used_above_total);
  EXPECT_EQ(fault_of(0, 0, kTotal + 1), MemoryFault::reserved_above_total);
  EXPECT_EQ(fault_of(kTotal / 2 + 1, kTotal / 2), MemoryFault::sum_above_total);
  // Values that would wrap a 64-bit sum or difference around.
  EXPECT_EQ(fault_of(UINT64_MAX, UINT64_MAX), MemoryFault::free_above_total);
  EXPECT_EQ(fault_of(UINT64_MAX, 1), MemoryFault::used_above_total);
  EXPECT_EQ(fault_of(kTotal, 1), MemoryFault::sum_above_total);
}

TEST(GpuMemory, AnImpossibleReadingKeepsTheDriversNumbersForTheMessage) {
  Gpu gpu;
  set_memory(gpu, kTotal, 0, 51200 * MiB, 0);
  ASSERT_TRUE(gpu.impossible_memory);
  EXPECT_EQ(gpu.impossible_memory->free_bytes, 51200 * MiB);
  EXPECT_EQ(gpu.impossible_memory->total_bytes, kTotal);
  EXPECT_FALSE(gpu.memory_total_bytes);
  EXPECT_FALSE(gpu.memory_used_bytes);
  EXPECT_FALSE(gpu.memory_reserved_bytes);
}

TEST(GpuMemory, HiddenUsageSaturatesInsteadOfWrappingAround) {
  Gpu gpu = test::GpuBuilder(0).used_mib(1000);
  gpu.processes = std::vector<GpuProcess>{{1, UINT64_MAX}, {2, UINT64_MAX}};
  EXPECT_EQ(hidden_usage_bytes(gpu), 0u);
}

}  // namespace
}  // namespace wg

namespace wg {
namespace {

TEST(DeviceLabel, NamesAnInstanceByItsGpuProfileAndPlace) {
  Gpu whole;
  whole.index = 3;
  EXPECT_EQ(device_label(whole), "GPU 3");
  Gpu instance;
  instance.index = 4;
  instance.mig = MigInstance{0, "GPU-x", 1, 3, 0, 2, 2, "2g.20gb", 1};
  EXPECT_EQ(device_label(instance), "GPU 0 MIG 2g.20gb #1");
  instance.mig->profile.clear();  // the driver refused its attributes
  EXPECT_EQ(device_label(instance), "GPU 0 MIG #1");
}

TEST(MigProfileName, RoundsMemoryUpAndNamesASmallerComputeInstance) {
  EXPECT_EQ(mig_profile_name(3, 3, 40192), "3g.40gb");
  EXPECT_EQ(mig_profile_name(1, 1, 4864), "1g.5gb");
  EXPECT_EQ(mig_profile_name(3, 1, 19968), "1c.3g.20gb");
  EXPECT_EQ(mig_profile_name(2, 0, 19968), "2g.20gb");
}

}  // namespace
}  // namespace wg
