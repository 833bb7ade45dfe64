#include "output/wait_report.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

TEST(Format, ElapsedTimes) {
  EXPECT_EQ(format_elapsed(std::chrono::milliseconds(45'900)), "45s");
  EXPECT_EQ(format_elapsed(std::chrono::milliseconds(72'000)), "1m12s");
  EXPECT_EQ(format_elapsed(std::chrono::milliseconds(7'380'000)), "2h03m");
}

TEST(NoAccessWords, AWaiterIsNotToldAboutGpusOutOfItsReach) {
  auto machine = test::machine_of({test::GpuBuilder(0).refused_by_driver(), test::GpuBuilder(1).claimed_by(42)});
  SelectionOptions options;
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(wait_blockers(machine, decision, options), "GPU1 claimed by pid 42");
}

}  // namespace
}  // namespace wg
