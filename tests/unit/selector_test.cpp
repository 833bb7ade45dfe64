#include "core/selector.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/machine_builder.hpp"
#include "support/mig_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;
using test::cpus;
using test::two_socket;

std::vector<Filter> filters_of(const Decision& decision, unsigned index) {
  std::vector<Filter> filters;
  for (const auto& reason : decision.verdicts.at(index).reasons) filters.push_back(reason.filter);
  return filters;
}

TEST(Selector, PrefersMoreFreeMemory) {
  auto machine = machine_of({GpuBuilder(0).free_mib(10000), GpuBuilder(1).free_mib(30000), GpuBuilder(2).free_mib(20000)});
  auto decision = select_gpus(machine, {});
  ASSERT_TRUE(decision.ok);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  EXPECT_EQ(decision.verdicts[0].verdict, Verdict::eligible);
  EXPECT_EQ(decision.verdicts[1].verdict, Verdict::chosen);
}

TEST(Selector, BreaksMemoryTiesByFewerProcessesThenLowerIndex) {
  auto machine = machine_of({GpuBuilder(0).free_mib(30000).process(1, 0).process(2, 0),
                             GpuBuilder(1).free_mib(30000).process(3, 0), GpuBuilder(2).free_mib(30000).process(4, 0)});
  SelectionOptions options;
  options.min_gpus = 3;
  options.max_gpus = 3;
  EXPECT_EQ(select_gpus(machine, options).chosen, std::vector<unsigned>({1, 2, 0}));
}

TEST(Selector, RanksAnUnknownProcessListAfterAKnownOne) {
  auto machine = machine_of({GpuBuilder(0).free_mib(30000).processes_refused(), GpuBuilder(1).free_mib(30000).process(7, 0)});
  EXPECT_EQ(select_gpus(machine, {}).chosen, std::vector<unsigned>({1}));
}

TEST(Selector, RejectsLessFreeMemoryThanTheDefault2048MiB) {
  auto machine = machine_of({GpuBuilder(0).free_mib(2047), GpuBuilder(1).free_mib(2048)});
  auto decision = select_gpus(machine, {});
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::min_memory}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].value, 2047.0 * test::MiB);
  EXPECT_EQ(decision.verdicts[0].reasons[0].limit, 2048.0 * test::MiB);
}

TEST(Selector, MinMemoryZeroDisablesTheFloor) {
  auto machine = machine_of({GpuBuilder(0).free_mib(0)});
  SelectionOptions options;
  options.min_free_bytes = 0;
  EXPECT_TRUE(select_gpus(machine, options).ok);
}

TEST(Selector, AnImpossibleMemoryReadingIsUnknownAndFailsMinMemory) {
  auto machine = machine_of({GpuBuilder(0).impossible_memory(40960, 51200), GpuBuilder(1).free_mib(30000)});
  SelectionOptions options;
  options.min_free_bytes = 40960 * test::MiB;
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::memory_unknown}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].limit, 40960.0 * test::MiB);
  EXPECT_EQ(filters_of(decision, 1), std::vector<Filter>({Filter::min_memory}));
}

TEST(Selector, UnknownMemoryRanksLastWithoutAFloorAndIsNeverIdle) {
  auto machine = machine_of({GpuBuilder(0).impossible_memory(40960, 51200), GpuBuilder(1).free_mib(100)});
  SelectionOptions options;
  options.min_free_bytes = 0;
  options.max_gpus = 2;
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1, 0}));
  EXPECT_FALSE(is_idle(machine.gpus[0]));
  EXPECT_FALSE(hidden_usage_bytes(machine.gpus[0]));
  options.idle = IdleRequirement::idle_only;
  EXPECT_EQ(filters_of(select_gpus(machine, options), 0), std::vector<Filter>({Filter::not_idle}));
}

TEST(Selector, RejectsUtilizationAboveMaxUtilButNotEqual) {
  auto machine = machine_of({GpuBuilder(0).free_mib(30000).util(71), GpuBuilder(1).free_mib(20000).util(70)});
  SelectionOptions options;
  options.max_util_percent = 70;
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  EXPECT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::max_util}));
}

TEST(Selector, RejectsUnreportedUtilizationOnlyWhenMaxUtilIsSet) {
  auto machine = machine_of({GpuBuilder(0).util(std::nullopt)});
  EXPECT_TRUE(select_gpus(machine, {}).ok);
  SelectionOptions options;
  options.max_util_percent = 90;
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::util_unknown}));
}

TEST(Selector, RejectsGpusClaimedByAnotherProcess) {
  auto machine = machine_of({GpuBuilder(0).free_mib(30000).claimed_by(4242), GpuBuilder(1).free_mib(10000)});
  auto decision = select_gpus(machine, {});
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::claimed}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].value, 4242);
}

TEST(Selector, NeverChoosesAGpuThisProcessCannotOpen) {
  auto machine = machine_of({GpuBuilder(0).free_mib(40000).refused_by_device_node(0), GpuBuilder(1).refused_by_driver(),
                             GpuBuilder(2).free_mib(10000)});
  auto decision = select_gpus(machine, {});
  ASSERT_TRUE(decision.ok);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({2}));
  EXPECT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::no_access}));
  EXPECT_EQ(filters_of(decision, 1), std::vector<Filter>({Filter::no_access}));  // not "unusable": nothing is broken
  EXPECT_EQ(decision.eligible_count, 1u);
}

TEST(Selector, AManualListNamingAGpuThisProcessCannotOpenFails) {
  auto machine = machine_of({GpuBuilder(0).refused_by_device_node(0), GpuBuilder(1)});
  SelectionOptions options;
  options.manual = std::vector<unsigned>{0};
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::no_access}));
}

TEST(Selector, RejectsHiddenUsageAbove512MiB) {
  // Used memory with no process to attribute it to: 512 MiB is allowed, more is not.
  auto machine = machine_of({GpuBuilder(0).used_mib(600), GpuBuilder(1).used_mib(512), GpuBuilder(2).used_mib(513)});
  SelectionOptions options;
  options.min_gpus = 1;
  options.max_gpus = 3;
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::hidden_usage}));
  EXPECT_TRUE(filters_of(decision, 1).empty());
  EXPECT_EQ(filters_of(decision, 2), std::vector<Filter>({Filter::hidden_usage}));
}

TEST(Selector, DoesNotCallUnattributedProcessMemoryHiddenUsage) {
  auto machine = machine_of({GpuBuilder(0).used_mib(9000).process_without_memory(77)});
  auto decision = select_gpus(machine, {});
  EXPECT_TRUE(decision.ok);
  EXPECT_FALSE(hidden_usage_bytes(machine.gpus[0]).has_value());
}

TEST(Selector, CountsAttributedProcessMemoryAsVisible) {
  auto machine = machine_of({GpuBuilder(0).process(10, 8000)});
  EXPECT_EQ(*hidden_usage_bytes(machine.gpus[0]), 0u);
  EXPECT_TRUE(select_gpus(machine, {}).ok);
}

TEST(Selector, RequireIdleRejectsProcessesMemoryAndUnknownEvidence) {
  auto machine = machine_of({GpuBuilder(0).process(5, 100), GpuBuilder(1).used_mib(499), GpuBuilder(2).used_mib(500),
                             GpuBuilder(3).processes_refused()});
  SelectionOptions options;
  options.idle = IdleRequirement::idle_only;
  options.max_gpus = 4;
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  EXPECT_EQ(decision.verdicts[0].reasons.at(0).value, 1);
  EXPECT_EQ(decision.verdicts[2].reasons.at(0).value, 0);
  EXPECT_EQ(decision.verdicts[3].reasons.at(0).value, -1);
}

TEST(Selector, MinGpusWithoutMaxTakesExactlyMin) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1), GpuBuilder(2), GpuBuilder(3)});
  SelectionOptions options;
  options.min_gpus = 2;
  options.max_gpus = 2;
  EXPECT_EQ(select_gpus(machine, options).chosen.size(), 2u);
}

TEST(Selector, MaxGpusTakesAsManyAsAreEligibleUpToMax) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1).claimed_by(9), GpuBuilder(2), GpuBuilder(3)});
  SelectionOptions options;
  options.min_gpus = 1;
  options.max_gpus = 8;
  EXPECT_EQ(select_gpus(machine, options).chosen, std::vector<unsigned>({0, 2, 3}));
}

TEST(Selector, FailsWhenFewerThanMinAreEligibleAndSaysHowMany) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1).free_mib(100)});
  SelectionOptions options;
  options.min_gpus = 2;
  options.max_gpus = 2;
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  EXPECT_TRUE(decision.chosen.empty());
  EXPECT_EQ(decision.needed, 2u);
  EXPECT_EQ(decision.eligible_count, 1u);
}

TEST(Selector, PrefersGpuTypeMatchesAndFallsBackToOthers) {
  auto machine = machine_of({GpuBuilder(0).free_mib(40000).name("NVIDIA L40S"),
                             GpuBuilder(1).free_mib(20000).name("NVIDIA H100 80GB HBM3")});
  SelectionOptions options;
  options.gpu_type = "h100";
  EXPECT_EQ(select_gpus(machine, options).chosen, std::vector<unsigned>({1}));
  options.gpu_type = "a100";
  auto fallback = select_gpus(machine, options);
  EXPECT_EQ(fallback.chosen, std::vector<unsigned>({0}));
  ASSERT_FALSE(fallback.warnings.empty());
  EXPECT_EQ(fallback.warnings.back().kind, Warning::type_fallback);
}

TEST(Selector, StrictGpuTypeNeverFallsBack) {
  auto machine = machine_of({GpuBuilder(0).name("NVIDIA L40S")});
  SelectionOptions options;
  options.gpu_type = "a100";
  options.type_fallback = TypeFallback::strict;
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::gpu_type}));
}

TEST(Selector, ManualListKeepsItsOrderAndIgnoresCounts) {
  auto machine = machine_of({GpuBuilder(0).free_mib(30000), GpuBuilder(1).free_mib(10000), GpuBuilder(2)});
  SelectionOptions options;
  options.manual = std::vector<unsigned>{2, 0};
  options.min_gpus = 1;
  options.max_gpus = 1;
  EXPECT_EQ(select_gpus(machine, options).chosen, std::vector<unsigned>({2, 0}));
}

TEST(Selector, ManualListStillAppliesFilters) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1).claimed_by(31)});
  SelectionOptions options;
  options.manual = std::vector<unsigned>{0, 1};
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(filters_of(decision, 1), std::vector<Filter>({Filter::claimed}));
}

TEST(Selector, NeverChoosesOutsideTheAllocation) {
  auto machine = machine_of({GpuBuilder(0).free_mib(40000), GpuBuilder(1).free_mib(1000), GpuBuilder(2).free_mib(30000)});
  SelectionOptions options;
  options.allocation = std::vector<unsigned>{1, 2};
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({2}));
  EXPECT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::not_allocated}));
}

TEST(Selector, SkipsUnusableGpusWithNvmlsError) {
  auto machine = machine_of({GpuBuilder(0).lost(), GpuBuilder(1)});
  auto decision = select_gpus(machine, {});
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::unusable}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].text, "GPU is lost");
}

TEST(Selector, ListsEveryFailedFilterOfAGpu) {
  auto machine = machine_of({GpuBuilder(0).used_mib(40860).util(99).claimed_by(5)});
  SelectionOptions options;
  options.max_util_percent = 50;
  EXPECT_EQ(filters_of(select_gpus(machine, options), 0),
            std::vector<Filter>({Filter::claimed, Filter::hidden_usage, Filter::min_memory, Filter::max_util}));
}

TEST(Selector, WarnsAboutLowFreeMemoryAndNonIdleChoices) {
  auto machine = machine_of({GpuBuilder(0).process(3, 39460)});
  SelectionOptions options;
  options.min_free_bytes = 0;
  auto decision = select_gpus(machine, options);
  ASSERT_EQ(decision.warnings.size(), 2u);
  EXPECT_EQ(decision.warnings[0].kind, Warning::low_free_memory);
  EXPECT_EQ(decision.warnings[1].kind, Warning::not_idle);
}

TEST(Selector, DoesNotWarnForAnIdleRoomyGpu) {
  auto machine = machine_of({GpuBuilder(0)});
  EXPECT_TRUE(select_gpus(machine, {}).warnings.empty());
}


TEST(Selector, CountsOnlyListedGpusAsEligibleInManualMode) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1), GpuBuilder(2).claimed_by(8)});
  SelectionOptions options;
  options.manual = std::vector<unsigned>{2};
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(decision.needed, 1u);
  EXPECT_EQ(decision.eligible_count, 0u);
}


TEST(SelectorTiers, AnIdleGpuBeatsABusyOneWithMoreFreeMemory) {
  // A colleague's training run leaves GPU 0 with the most free memory of the machine.
  auto machine = machine_of({GpuBuilder(0, 81920).process(31337, 2000).util(97), GpuBuilder(1).free_mib(10000)});
  auto decision = select_gpus(machine, {});
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  EXPECT_EQ(decision.verdicts[0].tier, Tier::busy);
  EXPECT_EQ(decision.verdicts[1].tier, Tier::idle);
  EXPECT_TRUE(decision.warnings.empty());
}

TEST(SelectorTiers, AnUnknownProcessListCountsAsBusy) {
  auto machine = machine_of({GpuBuilder(0).free_mib(40000).processes_refused(), GpuBuilder(1).free_mib(10000)});
  auto decision = select_gpus(machine, {});
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  EXPECT_EQ(decision.verdicts[0].tier, Tier::busy);
}

TEST(SelectorTiers, MemoryInUseWithoutAListedProcessCountsAsBusy) {
  // 505 MiB is below the hidden-usage threshold, so the GPU passes, but it is not idle.
  auto machine = machine_of({GpuBuilder(0, 81920).used_mib(505), GpuBuilder(1).free_mib(10000)});
  auto decision = select_gpus(machine, {});
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  EXPECT_EQ(decision.verdicts[0].tier, Tier::busy);
}

TEST(SelectorTiers, WhenOnlyBusyGpusPassOneIsStillChosenWithTheWarning) {
  auto machine = machine_of({GpuBuilder(0).free_mib(1000), GpuBuilder(1).free_mib(20000).process(7, 0),
                             GpuBuilder(2).free_mib(30000).processes_refused()});
  auto decision = select_gpus(machine, {});
  ASSERT_TRUE(decision.ok);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({2}));  // idle GPU 0 is below --min-memory
  ASSERT_EQ(decision.warnings.size(), 1u);
  EXPECT_EQ(decision.warnings[0].kind, Warning::not_idle);
  EXPECT_EQ(decision.warnings[0].index, 2u);
}

TEST(SelectorTiers, WithinATierTheOrderIsMemoryFirst) {
  auto machine = machine_of({GpuBuilder(0).free_mib(30000).process(1, 0), GpuBuilder(1).free_mib(10000),
                             GpuBuilder(2).free_mib(35000).process(2, 0), GpuBuilder(3).free_mib(20000)});
  SelectionOptions options;
  options.max_gpus = 4;
  EXPECT_EQ(select_gpus(machine, options).chosen, std::vector<unsigned>({3, 1, 2, 0}));
}

TEST(SelectorTiers, GpuTypeMatchesStillComeBeforeIdleGpus) {
  auto machine = machine_of({GpuBuilder(0).name("NVIDIA L40S"),
                             GpuBuilder(1).name("NVIDIA H100 80GB HBM3").process(9, 1000)});
  SelectionOptions options;
  options.gpu_type = "h100";
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  ASSERT_EQ(decision.warnings.size(), 1u);
  EXPECT_EQ(decision.warnings[0].kind, Warning::not_idle);
}

TEST(SelectorTiers, AManualListIgnoresTiers) {
  auto machine = machine_of({GpuBuilder(0).process(9, 1000), GpuBuilder(1)});
  SelectionOptions options;
  options.manual = std::vector<unsigned>{0};
  EXPECT_EQ(select_gpus(machine, options).chosen, std::vector<unsigned>({0}));
}

TEST(SelectorSharing, SharedHoldersDoNotKeepOutASharedClaim) {
  auto machine = machine_of({GpuBuilder(0).claimed_by(1, ClaimMode::shared).claimed_by(2, ClaimMode::shared)});
  SelectionOptions options;
  options.claim_mode = ClaimMode::shared;
  EXPECT_TRUE(select_gpus(machine, options).ok);
}

TEST(SelectorSharing, AnExclusiveHolderKeepsOutASharedClaim) {
  auto machine = machine_of({GpuBuilder(0).claimed_by(9)});
  SelectionOptions options;
  options.claim_mode = ClaimMode::shared;
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(decision.verdicts[0].reasons.at(0).filter, Filter::claimed);
}

TEST(SelectorSharing, SharersKeepOutAnExclusiveClaimAndAreCounted) {
  auto machine = machine_of({GpuBuilder(0).claimed_by(1, ClaimMode::shared).claimed_by(2, ClaimMode::shared)});
  auto decision = select_gpus(machine, {});
  EXPECT_FALSE(decision.ok);
  const Reason& reason = decision.verdicts[0].reasons.at(0);
  EXPECT_EQ(reason.filter, Filter::shared);
  EXPECT_EQ(reason.value, 1);
  EXPECT_EQ(reason.limit, 2);
}


Gpu with_sensors(unsigned index, std::optional<unsigned> temp, std::optional<double> power, std::optional<double> limit) {
  Gpu gpu = GpuBuilder(index);
  gpu.temperature_c = temp;
  gpu.power_w = power;
  gpu.power_limit_w = limit;
  return gpu;
}

TEST(SelectorThresholds, RejectsGpusHotterThanMaxTempButNotAtIt) {
  auto machine = machine_of({with_sensors(0, 81, 100, 300), with_sensors(1, 80, 100, 300)});
  SelectionOptions options;
  options.max_temp_c = 80;
  options.max_gpus = 2;
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::max_temp}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].value, 81);
}

TEST(SelectorThresholds, AGpuWithoutTheNeededSensorIsRejectedForThatFilterOnly) {
  auto machine = machine_of({with_sensors(0, std::nullopt, std::nullopt, std::nullopt)});
  EXPECT_TRUE(select_gpus(machine, {}).ok);
  SelectionOptions options;
  options.max_temp_c = 80;
  options.max_power_w = 200;
  EXPECT_EQ(filters_of(select_gpus(machine, options), 0), std::vector<Filter>({Filter::temp_unknown, Filter::power_unknown}));
}

TEST(SelectorThresholds, MaxPowerInWattsOrAsAFractionOfTheLimit) {
  auto machine = machine_of({with_sensors(0, 50, 250, 300), with_sensors(1, 50, 200, 400)});
  SelectionOptions watts;
  watts.max_power_w = 220;
  watts.max_gpus = 2;
  EXPECT_EQ(select_gpus(machine, watts).chosen, std::vector<unsigned>({1}));
  SelectionOptions fraction;
  fraction.max_power_fraction = 0.8;  // 240 W of 300, 320 W of 400
  fraction.max_gpus = 2;
  auto decision = select_gpus(machine, fraction);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  EXPECT_EQ(decision.verdicts[0].reasons.at(0).limit, 240);
}

TEST(SelectorThresholds, APercentageNeedsTheReportedLimit) {
  auto machine = machine_of({with_sensors(0, 50, 100, std::nullopt)});
  SelectionOptions options;
  options.max_power_fraction = 0.5;
  auto decision = select_gpus(machine, options);
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::power_unknown}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].basis, Basis::missing_limit);
}

TEST(SelectorThresholds, ASpikyGpuIsJudgedByItsAverageNotItsInstant) {
  Gpu spiky = GpuBuilder(0).util(5);  // idle at this instant, busy on average
  spiky.utilization_avg_percent = 80;
  Gpu calm = GpuBuilder(1).util(95);  // a spike right now, quiet on average
  calm.utilization_avg_percent = 10;
  SelectionOptions options;
  options.max_util_percent = 50;
  options.max_gpus = 2;
  auto decision = select_gpus(machine_of({spiky, calm}), options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1}));
  EXPECT_EQ(decision.verdicts[0].reasons.at(0).value, 80);
  EXPECT_EQ(decision.verdicts[0].reasons.at(0).basis, Basis::average);
}

TEST(SelectorThresholds, PowerIsJudgedByItsAverageToo) {
  Gpu gpu = with_sensors(0, 50, 100, 300);
  gpu.power_avg_w = 290;
  SelectionOptions options;
  options.max_power_w = 200;
  auto decision = select_gpus(machine_of({gpu}), options);
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::max_power}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].value, 290);
}

TEST(SelectorThresholds, WithoutSamplesTheInstantIsUsedAndSaidSo) {
  auto machine = machine_of({GpuBuilder(0).util(60)});
  SelectionOptions options;
  options.max_util_percent = 50;
  auto decision = select_gpus(machine, options);
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::max_util}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].basis, Basis::instant);
}

TEST(SelectorThresholds, ACoolingGpuStaysOutUntilItsWindowIsOver) {
  auto machine = machine_of({with_sensors(0, 75, 100, 300)});
  SelectionOptions options;
  options.max_temp_c = 80;
  options.cooling_ms[0] = 1200;
  auto decision = select_gpus(machine, options);
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::cooling}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].value, 1200);
  EXPECT_EQ(decision.verdicts[0].reasons[0].limit, 5000);
}

// On two_socket: the choice of a set by the interconnect and by CPU locality.
const std::vector<std::uint64_t>& kFree = test::kTwoSocketFree;

SelectionOptions several(unsigned count) {
  SelectionOptions options;
  options.min_gpus = options.max_gpus = count;
  options.min_free_bytes = 0;
  return options;
}

TEST(SelectorTopology, ChoosesAnNvlinkPairOverTwoLooseGpusWithMoreFreeMemory) {
  auto decision = select_gpus(two_socket(kFree), several(2));
  EXPECT_EQ(decision.chosen, (std::vector<unsigned>{1, 0}));
}

TEST(SelectorTopology, TopologyIgnoreIsPureMemoryFirst) {
  auto options = several(2);
  options.topology = TopologyUse::ignore;
  EXPECT_EQ(select_gpus(two_socket(kFree), options).chosen, (std::vector<unsigned>{3, 6}));
}

TEST(SelectorTopology, ChoosesFourOfEightOnOneSocketWhoseFullestGpuHasMoreFree) {
  // Both sockets score the same; socket 1's fullest GPU (16 GiB free) beats socket 0's (11).
  auto decision = select_gpus(two_socket(kFree), several(4));
  EXPECT_EQ(decision.chosen, (std::vector<unsigned>{6, 4, 5, 7}));
}

TEST(SelectorTopology, OnlyEligibleGpusFormTheSetAndTiesGoToTheFullerGpuWithMoreFree) {
  auto free = kFree;
  free[0] = 1;  // below --min-memory: pair 0-1 is out; of the other NVLink pairs, 4-5's
                // fuller GPU has the most free (38 GiB against 16 and 11)
  auto options = several(2);
  options.min_free_bytes = 2048ull * test::MiB;
  auto decision = select_gpus(two_socket(free), options);
  EXPECT_EQ(decision.chosen, (std::vector<unsigned>{4, 5}));
}

TEST(SelectorTopology, UnknownLinksFallBackToMemoryFirst) {
  Machine machine = two_socket(kFree);
  machine.links.assign(8, std::vector<GpuLink>(8));
  for (auto& gpu : machine.gpus) gpu.numa_node.reset();
  EXPECT_EQ(select_gpus(machine, several(2)).chosen, (std::vector<unsigned>{3, 6}));
}

TEST(SelectorTopology, GpuTypeMatchesStayAheadOfTheInterconnect) {
  Machine machine = two_socket(kFree);
  machine.gpus[3].name = machine.gpus[6].name = "NVIDIA H100 80GB HBM3";
  auto options = several(2);
  options.gpu_type = "H100";
  EXPECT_EQ(select_gpus(machine, options).chosen, (std::vector<unsigned>{3, 6}));
  // Both matches, then a partner: 2 and 7 are each NVLinked to one of them; 7 has more free.
  options.min_gpus = options.max_gpus = 3;
  EXPECT_EQ(select_gpus(machine, options).chosen, (std::vector<unsigned>{3, 6, 7}));
}

// two_socket with a compute process on every GPU but `idle` (memory unchanged).
Machine busy_but(const std::vector<unsigned>& idle) {
  Machine machine = two_socket(kFree);
  for (auto& gpu : machine.gpus) {
    if (std::find(idle.begin(), idle.end(), gpu.index) == idle.end()) gpu.processes = std::vector<GpuProcess>{{60000 + gpu.index, 0}};
  }
  return machine;
}

TEST(SelectorTopology, TwoIdleLooseGpusBeatABusyNvlinkPair) {
  // GPUs 3 and 6 sit on different sockets; every NVLink pair runs someone's job.
  EXPECT_EQ(select_gpus(busy_but({3, 6}), several(2)).chosen, (std::vector<unsigned>{3, 6}));
}

TEST(SelectorTopology, TheInterconnectChoosesOnlyAmongGpusOfTheWorstTierNeeded) {
  // One idle GPU: it is taken, and its partner is the busy GPU best connected to it (its
  // NVLink peer 2, the fullest of all) rather than the busy pair 0-1.
  EXPECT_EQ(select_gpus(busy_but({3}), several(2)).chosen, (std::vector<unsigned>{3, 2}));
  // Every GPU busy: one tier, the interconnect decides as before.
  EXPECT_EQ(select_gpus(busy_but({}), several(2)).chosen, (std::vector<unsigned>{1, 0}));
}

SelectionOptions restricted_to(const std::string& allowed, unsigned count = 1) {
  auto options = several(count);
  options.allowed_cpus = cpus(allowed);
  options.cpus_restricted = true;
  return options;
}

TEST(SelectorLocality, PrefersGpusLocalToRestrictedCpusBeforeMemory) {
  EXPECT_EQ(select_gpus(two_socket(kFree), restricted_to("1")).chosen, (std::vector<unsigned>{6}));
  EXPECT_EQ(select_gpus(two_socket(kFree), restricted_to("1", 2)).chosen, (std::vector<unsigned>{4, 5}));
  // More GPUs than are local: all local ones, then the best-connected others.
  EXPECT_EQ(select_gpus(two_socket(kFree), restricted_to("1", 5)).chosen, (std::vector<unsigned>{6, 4, 5, 7, 3}));
}

TEST(SelectorLocality, AnIdleGpuElsewhereComesBeforeABusyLocalOne) {
  // CPU 1 is local to GPUs 4-7; of them only 6 is idle, and idle 3 is on the other socket.
  Machine machine = busy_but({3, 6});
  EXPECT_EQ(select_gpus(machine, restricted_to("1")).chosen, (std::vector<unsigned>{6}));
  EXPECT_EQ(select_gpus(machine, restricted_to("1", 2)).chosen, (std::vector<unsigned>{6, 3}));
  // Past the idle GPUs, the local busy ones, best connected: 6's NVLink peer 7.
  EXPECT_EQ(select_gpus(machine, restricted_to("1", 3)).chosen, (std::vector<unsigned>{6, 3, 7}));
}

TEST(SelectorLocality, UnrestrictedCpusOrNumaIgnoreChangeNothing) {
  auto options = restricted_to("0-1");
  options.cpus_restricted = false;
  EXPECT_EQ(select_gpus(two_socket(kFree), options).chosen, (std::vector<unsigned>{3}));
  options = restricted_to("1");
  options.numa = Locality::ignore;
  EXPECT_EQ(select_gpus(two_socket(kFree), options).chosen, (std::vector<unsigned>{3}));
}

TEST(SelectorLocality, RequireRejectsGpusThatAreNotLocalOrWhoseCpusAreUnknown) {
  Machine machine = two_socket(kFree);
  machine.gpus[5].local_cpus.reset();
  auto options = restricted_to("1", 4);
  options.numa = Locality::require;
  auto decision = select_gpus(machine, options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(decision.eligible_count, 3u);
  ASSERT_EQ(decision.verdicts[3].reasons.size(), 1u);
  EXPECT_EQ(decision.verdicts[3].reasons[0].filter, Filter::numa);
  EXPECT_EQ(decision.verdicts[3].reasons[0].value, 0);
  EXPECT_EQ(decision.verdicts[3].reasons[0].text, "0");
  EXPECT_EQ(decision.verdicts[5].reasons[0].filter, Filter::numa_unknown);
  EXPECT_TRUE(decision.verdicts[6].reasons.empty());
}

// Only GPU 0 is left once MIG rules are applied to a launch of two devices, or of a
// profile that is not here; claims and readings can change, MIG rules cannot.
TEST(SelectorMig, MigLeavesEnoughCountsWhatOnlyMigRulesOut) {
  SelectionOptions options;
  EXPECT_TRUE(mig_leaves_enough(select_gpus(test::h100_split(), options)));
  options.min_gpus = options.max_gpus = 2;
  EXPECT_FALSE(mig_leaves_enough(select_gpus(test::h100_split(), options)));
  Machine machine = test::h100_split();
  machine.gpus[0].claims.push_back({4242});
  options.min_gpus = options.max_gpus = 1;
  options.mig_profile = "3g.40gb";
  EXPECT_TRUE(mig_leaves_enough(select_gpus(machine, options)));
  options.mig_profile = "7g.80gb";
  EXPECT_FALSE(mig_leaves_enough(select_gpus(machine, options)));
}

// MIG: h100_split() is GPU 0 whole, GPU 1 in MIG mode as 3g.40gb (2) and two 2g.20gb (3, 4).

TEST(SelectorMig, AGpuInMigModeIsNeverACandidateAndCountsItsInstances) {
  auto decision = select_gpus(test::h100_split(), {});
  ASSERT_EQ(filters_of(decision, 1), std::vector<Filter>({Filter::mig_split}));
  EXPECT_EQ(decision.verdicts[1].reasons[0].value, 3.0);
}

TEST(SelectorMig, AGpuInMigModeIsRejectedEvenWhenNamedWithGpu) {
  SelectionOptions options;
  options.manual = std::vector<unsigned>{1};
  auto decision = select_gpus(test::h100_split(), options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(filters_of(decision, 1), std::vector<Filter>({Filter::mig_split}));
}

TEST(SelectorMig, ChoosesTheSmallestInstanceBeforeAnyWholeGpu) {
  auto decision = select_gpus(test::h100_split(), {});
  ASSERT_TRUE(decision.ok);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({3}));
  EXPECT_EQ(decision.verdicts[0].verdict, Verdict::eligible);
  EXPECT_EQ(decision.verdicts[2].verdict, Verdict::eligible);
  EXPECT_EQ(decision.verdicts[4].verdict, Verdict::eligible);
}

TEST(SelectorMig, ChoosesTheSmallestInstanceThatFitsThenAWholeGpu) {
  SelectionOptions options;
  options.min_free_bytes = 30000 * test::MiB;
  auto fits_3g = select_gpus(test::h100_split(), options);
  EXPECT_EQ(fits_3g.chosen, std::vector<unsigned>({2}));
  EXPECT_EQ(filters_of(fits_3g, 3), std::vector<Filter>({Filter::min_memory}));
  options.min_free_bytes = 40500 * test::MiB;
  EXPECT_EQ(select_gpus(test::h100_split(), options).chosen, std::vector<unsigned>({0}));
}

TEST(SelectorMig, SmallerInstancesRankFirstEvenWithLessFreeMemory) {
  Machine machine = test::h100_split();
  machine.gpus[3].memory_free_bytes = 4000 * test::MiB;
  machine.gpus[4].memory_free_bytes = 4000 * test::MiB;
  EXPECT_EQ(select_gpus(machine, {}).chosen, std::vector<unsigned>({3}));
}

TEST(SelectorMig, InstancesOfOneSizeGoToMoreFreeMemoryThenLowerIndex) {
  Machine machine = test::h100_split();
  machine.gpus[3].memory_free_bytes = 10000 * test::MiB;
  machine.gpus[4].memory_free_bytes = 15000 * test::MiB;
  EXPECT_EQ(select_gpus(machine, {}).chosen, std::vector<unsigned>({4}));
  machine.gpus[4].memory_free_bytes = 10000 * test::MiB;
  EXPECT_EQ(select_gpus(machine, {}).chosen, std::vector<unsigned>({3}));
}

TEST(SelectorMig, FewerSlicesBreakATieInTotalMemory) {
  Gpu parent = test::split(GpuBuilder(0, 40960));
  auto machine = machine_of({parent, test::instance(GpuBuilder(1, 10240), parent, 0, 2),
                             test::instance(GpuBuilder(2, 10240), parent, 1, 1)});
  EXPECT_EQ(select_gpus(machine, {}).chosen, std::vector<unsigned>({2}));
}

TEST(SelectorMig, AnIdleWholeGpuRanksBeforeBusyInstances) {
  Machine machine = test::h100_split();
  for (unsigned index : {2u, 3u, 4u}) machine.gpus[index].processes->push_back({4242, 0});
  EXPECT_EQ(select_gpus(machine, {}).chosen, std::vector<unsigned>({0}));
}

TEST(SelectorMig, AClaimedInstanceLeavesItsSiblingsFree) {
  Machine machine = test::h100_split();
  machine.gpus[3].claims.push_back({4242, ClaimMode::exclusive, {}, {}});
  auto decision = select_gpus(machine, {});
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({4}));
  EXPECT_EQ(filters_of(decision, 3), std::vector<Filter>({Filter::claimed}));
}

TEST(SelectorMig, MigProfileKeepsOnlyInstancesOfThatProfile) {
  SelectionOptions options;
  options.mig_profile = "3g.40gb";
  auto decision = select_gpus(test::h100_split(), options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({2}));
  ASSERT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::mig_profile}));
  EXPECT_EQ(decision.verdicts[0].reasons[0].text, "3g.40gb");
  EXPECT_EQ(filters_of(decision, 1), std::vector<Filter>({Filter::mig_split}));
  ASSERT_EQ(filters_of(decision, 3), std::vector<Filter>({Filter::mig_profile}));
  EXPECT_EQ(decision.verdicts[3].reasons[0].text, "3g.40gb");  // what was asked for; Gpu::mig has its own
}

TEST(SelectorMig, MigProfileRejectsEveryWholeGpuOfAMachineWithoutMig) {
  SelectionOptions options;
  options.mig_profile = "1g.10gb";
  auto decision = select_gpus(machine_of({GpuBuilder(0), GpuBuilder(1)}), options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(filters_of(decision, 0), std::vector<Filter>({Filter::mig_profile}));
  EXPECT_EQ(filters_of(decision, 1), std::vector<Filter>({Filter::mig_profile}));
}

TEST(SelectorMig, TwoDevicesNeededRejectEveryInstance) {
  SelectionOptions options;
  options.min_gpus = 2;
  options.max_gpus = 2;
  auto decision = select_gpus(test::h100_split(), options);
  EXPECT_FALSE(decision.ok);
  EXPECT_EQ(decision.eligible_count, 1u);
  for (unsigned index : {2u, 3u, 4u}) {
    EXPECT_EQ(filters_of(decision, index), std::vector<Filter>({Filter::mig_single})) << index;
  }
  EXPECT_EQ(decision.verdicts[0].verdict, Verdict::eligible);
}

TEST(SelectorMig, MoreDevicesAllowedButOneNeededTakesWholeGpusOnly) {
  SelectionOptions options;
  options.max_gpus = 4;
  Gpu parent = test::split(GpuBuilder(2, 81920));
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1), parent, test::instance(GpuBuilder(3, 20096), parent, 0, 2)});
  EXPECT_EQ(select_gpus(machine, options).chosen, std::vector<unsigned>({0, 1}));
}

TEST(SelectorMig, MoreDevicesAllowedButOnlyInstancesPassTakesOneInstanceAlone) {
  SelectionOptions options;
  options.max_gpus = 4;
  Machine machine = test::h100_split();
  machine.gpus[0].claims.push_back({4242, ClaimMode::exclusive, {}, {}});
  EXPECT_EQ(select_gpus(machine, options).chosen, std::vector<unsigned>({3}));
}

TEST(SelectorMig, NamedInstanceIsChosen) {
  SelectionOptions options;
  options.manual = std::vector<unsigned>{2};
  auto decision = select_gpus(test::h100_split(), options);
  ASSERT_TRUE(decision.ok);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({2}));
}

// NVML reports no utilization per instance: unknown, never zero.
TEST(SelectorMig, MaxUtilRejectsInstancesWhoseUtilizationIsUnknown) {
  SelectionOptions options;
  options.max_util_percent = 50;
  auto decision = select_gpus(test::h100_split(), options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({0}));
  EXPECT_EQ(filters_of(decision, 3), std::vector<Filter>({Filter::util_unknown}));
}

TEST(SelectorMig, WholeGpusRankAsBeforeOnAMachineWithoutMig) {
  auto machine = machine_of({GpuBuilder(0).free_mib(10000), GpuBuilder(1).free_mib(30000), GpuBuilder(2).free_mib(20000)});
  SelectionOptions options;
  options.min_gpus = 3;
  options.max_gpus = 3;
  auto decision = select_gpus(machine, options);
  EXPECT_EQ(decision.chosen, std::vector<unsigned>({1, 2, 0}));
  for (const auto& verdict : decision.verdicts) EXPECT_TRUE(verdict.reasons.empty());
}

}  // namespace
}  // namespace wg
