#include "output/format.hpp"

#include <gtest/gtest.h>

#include "output/status_table.hpp"
#include "support/machine_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;

TEST(Format, BytesInMiBBelowAGiBAndTenthsOfGiBAbove) {
  EXPECT_EQ(format_bytes(512 * test::MiB), "512 MiB");
  EXPECT_EQ(format_bytes(1229 * test::MiB), "1.2 GiB");
  EXPECT_EQ(format_bytes(8192 * test::MiB), "8.0 GiB");
}

TEST(Format, ReasonsReadAsTheIssueWritesThem) {
  Gpu gpu = GpuBuilder(2).free_mib(1229);
  EXPECT_EQ(format_reason(gpu, {Filter::min_memory, 1229.0 * test::MiB, 8192.0 * test::MiB, {}}), "1.2 GiB free < 8.0 GiB");
  EXPECT_EQ(format_reason(gpu, {Filter::claimed, 4242, 0, {}}), "claimed by pid 4242");
  EXPECT_EQ(format_reason(gpu, {Filter::claimed, 311, 0, "alice, python train.py"}),
            "claimed by pid 311 (alice, python train.py)");
  EXPECT_EQ(format_reason(gpu, {Filter::shared, 12, 3, "bob, jupyter"}), "shared by pid 12 (bob, jupyter) and 2 others");
  EXPECT_EQ(format_reason(gpu, {Filter::shared, 12, 1, {}}), "shared by pid 12");
  EXPECT_EQ(format_reason(gpu, {Filter::max_util, 85, 70, {}}), "utilization 85% > 70%");
  EXPECT_EQ(format_reason(gpu, {Filter::util_unknown, 0, 70, {}}), "utilization not reported by the driver");
  EXPECT_EQ(format_reason(gpu, {Filter::unusable, 0, 0, "GPU is lost"}), "unusable: GPU is lost");
  EXPECT_EQ(format_reason(gpu, {Filter::not_idle, 2, 0, {}}), "not idle (2 processes)");
  EXPECT_EQ(format_reason(gpu, {Filter::not_idle, -1, 0, {}}), "not idle (process list not available)");
  EXPECT_EQ(format_reason(gpu, {Filter::not_allocated, 0, 0, {}}), "not in CUDA_VISIBLE_DEVICES");
  EXPECT_EQ(format_reason(gpu, {Filter::max_util, 80, 50, {}, Basis::average}), "utilization 80% > 50% (average)");
  EXPECT_EQ(format_reason(gpu, {Filter::max_util, 60, 50, {}, Basis::instant}),
            "utilization 60% > 50% (instantaneous: the driver keeps no samples)");
  EXPECT_EQ(format_reason(gpu, {Filter::max_temp, 84, 80, {}}), "temperature 84C > 80C");
  EXPECT_EQ(format_reason(gpu, {Filter::temp_unknown, 0, 80, {}}), "temperature not reported by the driver");
  EXPECT_EQ(format_reason(gpu, {Filter::max_power, 290.4, 200, {}, Basis::average}), "power 290 W > 200 W (average)");
  EXPECT_EQ(format_reason(gpu, {Filter::power_unknown, 0, 0, {}, Basis::missing_draw}),
            "power draw not reported by the driver");
  EXPECT_EQ(format_reason(gpu, {Filter::power_unknown, 0, 0, {}, Basis::missing_limit}),
            "power limit not reported by the driver (a percentage needs it)");
  EXPECT_EQ(format_reason(gpu, {Filter::cooling, 1200, 5000, {}}), "cooling: below --max-temp for 1.2s of 5.0s");
}

TEST(Format, ImpossibleMemoryReadingsNameTheNumbersThatCannotBeTrue) {
  auto impossible = [](MemoryFault fault, std::uint64_t used_mib, std::uint64_t free_mib, std::uint64_t reserved_mib) {
    return describe_impossible_memory({fault, 40960 * test::MiB, used_mib * test::MiB, free_mib * test::MiB,
                                       reserved_mib * test::MiB});
  };
  EXPECT_EQ(impossible(MemoryFault::free_above_total, 0, 51200, 0),
            "memory reading is impossible (free 50.0 GiB > total 40.0 GiB)");
  EXPECT_EQ(impossible(MemoryFault::used_above_total, 51200, 0, 0),
            "memory reading is impossible (used 50.0 GiB > total 40.0 GiB)");
  EXPECT_EQ(impossible(MemoryFault::reserved_above_total, 0, 0, 51200),
            "memory reading is impossible (reserved 50.0 GiB > total 40.0 GiB)");
  EXPECT_EQ(impossible(MemoryFault::sum_above_total, 30720, 20480, 0),
            "memory reading is impossible (free 20.0 GiB + used 30.0 GiB > total 40.0 GiB)");
  Gpu gpu = GpuBuilder(0).impossible_memory(40960, 51200);
  EXPECT_EQ(format_reason(gpu, {Filter::memory_unknown, 0, 8192.0 * test::MiB, {}}),
            "memory reading is impossible (free 50.0 GiB > total 40.0 GiB)");
  EXPECT_EQ(free_memory_text(gpu), "memory unknown: memory reading is impossible (free 50.0 GiB > total 40.0 GiB)");
  EXPECT_EQ(used_memory_text(gpu), "memory use unknown");
}

TEST(NoAccessWords, SayWhoRefusesTheGpuInReasonsAndTheStatusTable) {
  Gpu by_driver = test::GpuBuilder(0).refused_by_driver();
  Gpu by_node = test::GpuBuilder(1).refused_by_device_node(3);
  Reason no_access{Filter::no_access, 0, 0, {}};
  EXPECT_EQ(format_reason(by_driver, no_access),
            "no access: NVML refuses it to this process (NO_PERMISSION), as a device cgroup does outside this "
            "job's allocation");
  EXPECT_EQ(format_reason(by_node, no_access),
            "no access: /dev/nvidia3 refuses this process, as a device cgroup does outside this job's allocation");
  EXPECT_EQ(gpu_state(by_driver), "NO ACCESS: NVML refuses it to this process (NO_PERMISSION)");
  EXPECT_EQ(gpu_state(by_node), "NO ACCESS: /dev/nvidia3 refuses this process");
}

}  // namespace
}  // namespace wg
