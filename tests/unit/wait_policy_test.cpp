#include "core/wait_policy.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using test::GpuBuilder;
using test::machine_of;
using TimePoint = WaitPolicy::TimePoint;

// The clock the policy is handed: milliseconds since an arbitrary start.
TimePoint at(milliseconds since_start) { return TimePoint{} + since_start; }

// A decision that rejected each GPU for one reason (GPU i for reasons[i]).
Decision rejected_for(std::vector<Filter> reasons) {
  Decision decision;
  decision.needed = 1;
  for (unsigned index = 0; index < reasons.size(); ++index) {
    decision.verdicts.push_back({index, Verdict::rejected, {{reasons[index], 0, 0, {}}}, true, Tier::busy});
  }
  return decision;
}

// GPU 0 held by a claim, GPU 1 free.
Decision claimed_then_free() {
  Decision decision = rejected_for({Filter::claimed});
  decision.verdicts.push_back({1, Verdict::eligible, {}, true, Tier::idle});
  return decision;
}

Decision both_free() {
  Decision decision;
  decision.verdicts = {{0, Verdict::eligible, {}, true, Tier::idle}, {1, Verdict::eligible, {}, true, Tier::idle}};
  return decision;
}

WaitPolicy policy(milliseconds poll, milliseconds window = 5000ms,
                  WaitPace::Readings readings = WaitPace::Readings::instant) {
  return WaitPolicy(WaitPace{.poll_interval = poll, .sample_window = window, .readings = readings});
}

// The delays a policy gives, one call per element of `decisions`.
std::vector<milliseconds> delays(WaitPolicy& policy, const std::vector<Decision>& decisions) {
  std::vector<milliseconds> seen;
  for (const auto& decision : decisions) seen.push_back(policy.next_delay(decision));
  return seen;
}

TEST(WaitPolicy, WithoutAWakeEveryLookWaitsTheWholePollInterval) {
  auto pace = policy(3000ms);
  Decision held = rejected_for({Filter::min_memory});
  EXPECT_FALSE(pace.quick_recheck());
  EXPECT_EQ(delays(pace, {held, held}), (std::vector<milliseconds>{3000ms, 3000ms}));
  EXPECT_FALSE(pace.quick_recheck());
}

TEST(WaitPolicy, AfterAWakeOneQuickRecheckWhenOnlyClaimsHoldGpusBack) {
  auto pace = policy(3000ms);
  Decision claims = rejected_for({Filter::claimed, Filter::shared, Filter::not_allocated, Filter::no_access});
  pace.woken();
  EXPECT_TRUE(pace.quick_recheck());
  EXPECT_EQ(pace.next_delay(claims), 2ms);
  EXPECT_TRUE(pace.quick_recheck());
  EXPECT_EQ(pace.next_delay(claims), 3000ms);
  EXPECT_FALSE(pace.quick_recheck());
}

TEST(WaitPolicy, AfterAWakeTheRechecksGrowToThePollIntervalWhileAReadingHoldsAGpuBack) {
  auto pace = policy(3000ms);
  Decision memory = rejected_for({Filter::claimed, Filter::min_memory});
  pace.woken();
  EXPECT_EQ(delays(pace, std::vector<Decision>(9, memory)),
            (std::vector<milliseconds>{2ms, 10ms, 25ms, 50ms, 100ms, 250ms, 500ms, 3000ms, 3000ms}));
  EXPECT_FALSE(pace.quick_recheck());
}

TEST(WaitPolicy, TheRechecksStopOnceOnlyClaimsAreLeft) {
  auto pace = policy(3000ms);
  pace.woken();
  Decision memory = rejected_for({Filter::max_util});
  Decision claims = rejected_for({Filter::claimed});
  EXPECT_EQ(delays(pace, {memory, memory, claims, memory}), (std::vector<milliseconds>{2ms, 10ms, 3000ms, 3000ms}));
}

TEST(WaitPolicy, ARecheckIsNeverLongerThanThePollInterval) {
  auto pace = policy(20ms);
  pace.woken();
  Decision memory = rejected_for({Filter::min_memory});
  EXPECT_EQ(delays(pace, {memory, memory, memory, memory}), (std::vector<milliseconds>{2ms, 10ms, 20ms, 20ms}));
}

TEST(WaitPolicy, AnotherWakeStartsTheRechecksOver) {
  auto pace = policy(3000ms);
  Decision memory = rejected_for({Filter::min_memory});
  pace.woken();
  EXPECT_EQ(delays(pace, {memory, memory}), (std::vector<milliseconds>{2ms, 10ms}));
  pace.woken();
  EXPECT_EQ(pace.next_delay(memory), 2ms);
}

TEST(WaitPolicy, AGpuCoolingDownIsLookedAtEveryFifthOfAWindowButNoMoreOftenThan100Ms) {
  Decision hot = rejected_for({Filter::max_temp});
  Decision cooling_down = rejected_for({Filter::cooling});
  auto five_seconds = policy(3000ms, 5000ms);
  EXPECT_EQ(five_seconds.next_delay(hot), 1000ms);
  EXPECT_EQ(five_seconds.next_delay(cooling_down), 1000ms);
  auto short_window = policy(3000ms, 200ms);
  EXPECT_EQ(short_window.next_delay(hot), 100ms);
  auto fast_poll = policy(50ms, 5000ms);
  EXPECT_EQ(fast_poll.next_delay(hot), 50ms);
}

TEST(WaitPolicy, LookingAtACoolingGpuLeavesTheRechecksWhereTheyWere) {
  auto pace = policy(3000ms);
  pace.woken();
  EXPECT_EQ(pace.next_delay(rejected_for({Filter::cooling})), 1000ms);
  EXPECT_TRUE(pace.quick_recheck());
  EXPECT_EQ(pace.next_delay(rejected_for({Filter::min_memory})), 2ms);
}

TEST(WaitPolicy, AClaimHeldThroughADeletedFileIsLookedAtEvery250Ms) {
  auto pace = policy(3000ms);
  Decision claims = rejected_for({Filter::claimed});
  EXPECT_EQ(pace.next_attempt(claims, at(1000ms), DeletedClaims::none, std::nullopt), at(4000ms));
  EXPECT_EQ(pace.next_attempt(claims, at(1000ms), DeletedClaims::held, std::nullopt), at(1250ms));
}

TEST(WaitPolicy, TheNextLookIsNeverAfterTheTimeout) {
  auto pace = policy(3000ms);
  Decision claims = rejected_for({Filter::claimed});
  EXPECT_EQ(pace.next_attempt(claims, at(1000ms), DeletedClaims::none, at(2500ms)), at(2500ms));
  EXPECT_EQ(pace.next_attempt(claims, at(1000ms), DeletedClaims::held, at(1100ms)), at(1100ms));
  EXPECT_EQ(pace.next_attempt(claims, at(1000ms), DeletedClaims::none, at(9000ms)), at(4000ms));
}

TEST(WaitPolicy, AGpuSeenTooHotCoolsForAWholeWindowBeforeItCounts) {
  auto pace = policy(3000ms, 5000ms);
  Gpu hot = GpuBuilder(0);
  hot.temperature_c = 90;
  Gpu cool = GpuBuilder(0);
  cool.temperature_c = 70;
  SelectionOptions selection;
  selection.max_temp_c = 80;

  SelectionOptions first = selection;
  pace.track_cooling(machine_of({hot}), first, at(0ms));
  EXPECT_EQ(first.cooling_ms, (std::map<unsigned, std::int64_t>{{0, 0}}));

  SelectionOptions later = selection;
  pace.track_cooling(machine_of({cool}), later, at(2000ms));
  EXPECT_EQ(later.cooling_ms, (std::map<unsigned, std::int64_t>{{0, 2000}}));

  SelectionOptions after_window = selection;
  pace.track_cooling(machine_of({cool}), after_window, at(5000ms));
  EXPECT_TRUE(after_window.cooling_ms.empty());
}

TEST(WaitPolicy, AGpuTooHotAgainStartsItsWindowOver) {
  auto pace = policy(3000ms, 5000ms);
  Gpu hot = GpuBuilder(0);
  hot.temperature_c = 90;
  Gpu cool = GpuBuilder(0);
  cool.temperature_c = 70;
  SelectionOptions selection;
  selection.max_temp_c = 80;
  pace.track_cooling(machine_of({hot}), selection, at(0ms));
  pace.track_cooling(machine_of({hot}), selection, at(4000ms));
  SelectionOptions later = selection;
  later.cooling_ms.clear();
  pace.track_cooling(machine_of({cool}), later, at(6000ms));
  EXPECT_EQ(later.cooling_ms, (std::map<unsigned, std::int64_t>{{0, 2000}}));
}

TEST(WaitPolicy, NoGpuCoolsWithoutMaxTemp) {
  auto pace = policy(3000ms, 5000ms);
  Gpu hot = GpuBuilder(0);
  hot.temperature_c = 105;
  SelectionOptions selection;
  pace.track_cooling(machine_of({hot}), selection, at(0ms));
  EXPECT_TRUE(selection.cooling_ms.empty());
}

TEST(WaitPolicy, AGpuReleasedWithinTheLastSecondIsSettling) {
  auto pace = policy(3000ms);
  EXPECT_TRUE(pace.settling(claimed_then_free(), at(0ms)).empty());
  EXPECT_EQ(pace.settling(both_free(), at(100ms)), (std::set<unsigned>{0}));
  EXPECT_EQ(pace.settling(both_free(), at(1099ms)), (std::set<unsigned>{0}));
  EXPECT_TRUE(pace.settling(both_free(), at(1100ms)).empty());
}

TEST(WaitPolicy, AGpuNeverSeenClaimedIsNotSettling) {
  auto pace = policy(3000ms);
  EXPECT_TRUE(pace.settling(both_free(), at(0ms)).empty());
  EXPECT_TRUE(pace.settling(both_free(), at(10ms)).empty());
}

TEST(WaitPolicy, AGpuClaimedAgainStopsSettling) {
  auto pace = policy(3000ms);
  pace.settling(claimed_then_free(), at(0ms));
  EXPECT_EQ(pace.settling(both_free(), at(100ms)), (std::set<unsigned>{0}));
  EXPECT_TRUE(pace.settling(claimed_then_free(), at(200ms)).empty());
}

TEST(WaitPolicy, AveragedReadingsSettleForTheirWholeWindowAndASecond) {
  auto instant = policy(3000ms, 5000ms, WaitPace::Readings::instant);
  EXPECT_EQ(instant.settle_window(), 1000ms);
  auto averaged = policy(3000ms, 5000ms, WaitPace::Readings::averaged);
  EXPECT_EQ(averaged.settle_window(), 6000ms);
  averaged.settling(claimed_then_free(), at(0ms));
  EXPECT_EQ(averaged.settling(both_free(), at(100ms)), (std::set<unsigned>{0}));
  EXPECT_EQ(averaged.settling(both_free(), at(6099ms)), (std::set<unsigned>{0}));
  EXPECT_TRUE(averaged.settling(both_free(), at(6100ms)).empty());
}

TEST(WaitPolicy, WithoutInotifyAServableWaiterLooksEvery5MsAndOneBehindEvery20Ms) {
  EXPECT_EQ(WaitPolicy::check_every(Standing::servable), 5ms);
  EXPECT_EQ(WaitPolicy::check_every(Standing::behind), 20ms);
}

TEST(WaitPolicy, ClaimsTheAllocationAndAccessAreBlockagesOnlyClaimsCanLift) {
  EXPECT_TRUE(blocked_only_by_claims(rejected_for({Filter::claimed, Filter::shared})));
  EXPECT_TRUE(blocked_only_by_claims(rejected_for({Filter::not_allocated, Filter::no_access})));
  EXPECT_TRUE(blocked_only_by_claims(both_free()));
  EXPECT_FALSE(blocked_only_by_claims(rejected_for({Filter::claimed, Filter::min_memory})));
  EXPECT_FALSE(blocked_only_by_claims(rejected_for({Filter::queued})));
  EXPECT_FALSE(blocked_only_by_claims(rejected_for({Filter::max_power})));
}

TEST(WaitPolicy, TooHotAndCoolingDownAreCooling) {
  EXPECT_TRUE(cooling(rejected_for({Filter::claimed, Filter::max_temp})));
  EXPECT_TRUE(cooling(rejected_for({Filter::cooling})));
  EXPECT_FALSE(cooling(rejected_for({Filter::claimed, Filter::temp_unknown, Filter::max_util})));
}

}  // namespace
}  // namespace wg
