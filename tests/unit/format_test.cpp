#include "output/format.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/text.hpp"
#include "output/decision_json.hpp"
#include "output/decision_report.hpp"
#include "output/status_table.hpp"
#include "output/wait_report.hpp"
#include "support/machine_builder.hpp"
#include "support/mig_machine.hpp"

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

namespace wg {
namespace {

TEST(MigWords, ReasonsSayWhatMigRulesOut) {
  Machine machine = test::h100_split_in_use();
  const Gpu& split = machine.gpus[0];
  const Gpu& whole = machine.gpus[1];
  const Gpu& instance = machine.gpus[3];
  EXPECT_EQ(format_reason(split, {Filter::mig_split, 3, 0, {}}), "in MIG mode: its 3 instances are offered instead");
  EXPECT_EQ(format_reason(split, {Filter::mig_split, 1, 0, {}}), "in MIG mode: its 1 instance is offered instead");
  EXPECT_EQ(format_reason(split, {Filter::mig_split, 0, 0, {}}),
            "in MIG mode with no instances: CUDA cannot use it whole");
  EXPECT_EQ(format_reason(instance, {Filter::mig_single, 2, 0, {}}),
            "a MIG instance: a CUDA process uses only one, and this launch asks for 2 devices");
  EXPECT_EQ(format_reason(instance, {Filter::mig_single, 0, 0, {}}),
            "a MIG instance: a CUDA process uses only one, and this launch asks for more than one device");
  EXPECT_EQ(format_reason(instance, {Filter::mig_profile, 0, 0, "3g.40gb"}), "profile 2g.20gb, not --mig-profile 3g.40gb");
  EXPECT_EQ(format_reason(whole, {Filter::mig_profile, 0, 0, "3g.40gb"}),
            "a whole GPU, not a MIG instance of --mig-profile 3g.40gb");
}

// A decision on test::h100_split_in_use(): the split GPU rejected, the 3g.40gb instance chosen.
Decision instance_chosen() {
  Decision decision;
  decision.ok = true;
  decision.needed = 1;
  decision.eligible_count = 3;
  decision.chosen = {2};
  decision.verdicts = {{0, Verdict::rejected, {{Filter::mig_split, 3, 0, {}}}},
                       {1, Verdict::eligible, {}, true, Tier::idle},
                       {2, Verdict::chosen, {}, true, Tier::busy},
                       {3, Verdict::rejected, {{Filter::claimed, 311, 0, {}}}},
                       {4, Verdict::eligible, {}, true, Tier::idle}};
  return decision;
}

TEST(MigWords, TheDryRunNamesInstancesByTheirGpuAndProfile) {
  Machine machine = test::h100_split_in_use();
  CudaEnvironment env;
  env.visible_devices = machine.gpus[2].uuid;
  std::string report = render_dry_run(machine, instance_chosen(), &env, {"python", "train.py"}, nullptr,
                                      ClaimsPlace{}, nullptr);
  EXPECT_EQ(report,
            "would run: python train.py\n"
            "on GPU 0 MIG 3g.40gb #0\n"
            "  CUDA_VISIBLE_DEVICES=MIG-b0000002-aaaa-bbbb-cccc-000000000000\n"
            "GPUs:\n"
            "  GPU 0: rejected: in MIG mode: its 3 instances are offered instead [41C, 92 W now]\n"
            "  GPU 1: eligible, not needed (79.6 GiB free), tier: idle [util 0% now, 35C, 70 W now]\n"
            "  GPU 0 MIG 3g.40gb #0: chosen (19.2 GiB free), tier: busy (1 process, 20.0 GiB used) [41C, 92 W now]\n"
            "  GPU 0 MIG 2g.20gb #1: rejected: claimed by pid 311 [41C, 92 W now]\n"
            "  GPU 0 MIG 2g.20gb #2: eligible, not needed (19.6 GiB free), tier: idle [41C, 92 W now]\n");
}

TEST(MigWords, RejectionsSummaryAndWarningsNameInstances) {
  Machine machine = test::h100_split_in_use();
  Decision decision = instance_chosen();
  EXPECT_EQ(rejection_lines(machine, decision),
            "  GPU 0: in MIG mode: its 3 instances are offered instead\n"
            "  GPU 0 MIG 2g.20gb #1: claimed by pid 311\n");
  CudaEnvironment env;
  env.visible_devices = machine.gpus[2].uuid;
  EXPECT_EQ(selection_summary(machine, decision, env),
            "using GPU 0 MIG 3g.40gb #0 (NVIDIA H100 80GB HBM3, 19.2 GiB free); "
            "CUDA_VISIBLE_DEVICES=MIG-b0000002-aaaa-bbbb-cccc-000000000000");
  EXPECT_EQ(format_warning(machine.gpus[2], {Warning::not_idle, 2}, SelectionOptions{}),
            "GPU 0 MIG 3g.40gb #0 is not idle (1 process, 20.0 GiB used)");
}

TEST(MigWords, TheWaitingLineNamesInstancesAndLeavesOutWhatWaitingCannotChange) {
  Machine machine = test::h100_split_in_use();
  Decision decision;
  decision.verdicts = {{0, Verdict::rejected, {{Filter::mig_split, 3, 0, {}}}},
                       {1, Verdict::rejected, {{Filter::mig_profile, 0, 0, "2g.20gb"}}},
                       {2, Verdict::rejected, {{Filter::mig_profile, 0, 0, "2g.20gb"}}},
                       {3, Verdict::rejected, {{Filter::claimed, 311, 0, {}}}},
                       {4, Verdict::rejected, {{Filter::claimed, 312, 0, {}}}}};
  EXPECT_EQ(wait_blockers(machine, decision, SelectionOptions{}),
            "GPU 0 MIG 2g.20gb #1 claimed by pid 311 · GPU 0 MIG 2g.20gb #2 claimed by pid 312");
}

TEST(MigWords, DecisionJsonNamesTheMigFiltersAndTheInstance) {
  Machine machine = test::h100_split_in_use();
  Decision decision = instance_chosen();
  decision.verdicts[1] = {1, Verdict::rejected, {{Filter::mig_profile, 0, 0, "3g.40gb"}}};
  decision.verdicts[4] = {4, Verdict::rejected, {{Filter::mig_single, 2, 0, {}}}};
  auto json = nlohmann::json::parse(
      render_decision_json(machine, decision, SelectionOptions{}, nullptr, {}, nullptr, ClaimsPlace{}, nullptr));
  auto gpus = json["gpus"];
  EXPECT_EQ(gpus[0]["reasons"][0],
            nlohmann::json::parse(R"({"filter": "mig_split", "value": 3, "limit": null, "unit": "instances",
              "detail": null, "message": "in MIG mode: its 3 instances are offered instead"})"));
  EXPECT_EQ(gpus[1]["reasons"][0],
            nlohmann::json::parse(R"({"filter": "mig_profile", "value": null, "limit": null, "unit": null,
              "detail": "3g.40gb", "message": "a whole GPU, not a MIG instance of --mig-profile 3g.40gb"})"));
  EXPECT_EQ(gpus[4]["reasons"][0],
            nlohmann::json::parse(R"({"filter": "mig_single", "value": 2, "limit": null, "unit": "devices",
              "detail": null, "message": "a MIG instance: a CUDA process uses only one, and this launch asks for 2 devices"})"));
  EXPECT_EQ(gpus[4]["uuid"], "MIG-b0000004-aaaa-bbbb-cccc-000000000000");
  EXPECT_EQ(gpus[4]["mig"]["parent_uuid"], "GPU-a0000000-1111-2222-3333-444455556666");
  EXPECT_EQ(gpus[4]["mig"]["profile"], "2g.20gb");
  EXPECT_EQ(gpus[1]["mig"], nullptr);
  EXPECT_EQ(filter_name(Filter::mig_split), std::string("mig_split"));
}

}  // namespace
}  // namespace wg
