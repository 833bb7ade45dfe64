#include "output/decision_report.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;

TEST(Format, RejectionLinesListEveryRejectedGpu) {
  auto machine = machine_of({GpuBuilder(0).claimed_by(4242), GpuBuilder(1).free_mib(1229), GpuBuilder(2)});
  SelectionOptions options;
  options.min_free_bytes = 8192 * test::MiB;
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(rejection_lines(machine, decision),
            "  GPU 0: claimed by pid 4242\n"
            "  GPU 1: 1.2 GiB free < 8.0 GiB\n");
}

}  // namespace
}  // namespace wg
