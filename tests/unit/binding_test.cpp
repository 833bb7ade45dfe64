#include "core/binding.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

using test::cpus;
using test::two_socket;

const std::vector<std::uint64_t>& kFree = test::kTwoSocketFree;

TEST(Binding, PinsToTheChosenGpusLocalCpusThatAreAllowed) {
  Machine machine = two_socket(kFree);
  machine.gpus[0].local_cpus = cpus("0-23,48-71");
  machine.gpus[4].local_cpus = cpus("24-47,72-95");
  auto plan = plan_binding(machine, {0}, cpus("0-95"));
  EXPECT_EQ(plan.cpus.to_string(), "0-23,48-71");
  EXPECT_EQ(plan.memory_nodes, (std::vector<int>{0}));
  plan = plan_binding(machine, {0, 4}, cpus("20-30"));
  EXPECT_EQ(plan.cpus.to_string(), "20-30");
  EXPECT_EQ(plan.memory_nodes, (std::vector<int>{0, 1}));
  EXPECT_EQ(plan.problem, "");
}

TEST(Binding, SaysWhyItCannotPin) {
  Machine machine = two_socket(kFree);
  machine.gpus[2].local_cpus.reset();
  EXPECT_EQ(plan_binding(machine, {0, 2}, cpus("0-1")).problem,
            "the driver does not report the CPUs local to GPU 2");
  EXPECT_EQ(plan_binding(machine, {4}, cpus("0")).problem,
            "none of the CPUs local to the chosen GPUs (1) is one with-gpu may use (0)");
}

}  // namespace
}  // namespace wg
