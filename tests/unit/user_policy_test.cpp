#include "core/user_policy.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;

const UserPolicy kTwoEach{2, "/etc/with-gpu/config.toml"};
const std::string kAllowsTwo = "the policy in /etc/with-gpu/config.toml allows 2 GPUs per user at once";

Gpu held_by(unsigned index, const std::vector<std::string>& users, bool inherited = false) {
  Gpu gpu = GpuBuilder(index);
  for (const auto& user : users) {
    ClaimHolder holder{int(500 + index), users.size() > 1 ? ClaimMode::shared : ClaimMode::exclusive, user, "python"};
    holder.inherited = inherited;
    gpu.claims.push_back(holder);
  }
  return gpu;
}

Decision chose(std::vector<unsigned> chosen) {
  Decision decision;
  decision.ok = true;
  decision.needed = static_cast<unsigned>(chosen.size());
  decision.chosen = std::move(chosen);
  return decision;
}

TEST(GpusOfUser, AreTheGpusTheUserHoldsAClaimOnInheritedAndSharedOnesIncluded) {
  auto machine = machine_of({held_by(0, {"alice"}), held_by(1, {"bob"}), held_by(2, {"alice"}, true),
                             GpuBuilder(3), held_by(4, {"bob", "alice"})});
  EXPECT_EQ(gpus_of_user(machine, "alice"), (std::vector<unsigned>{0, 2, 4}));
  EXPECT_EQ(gpus_of_user(machine, "bob"), (std::vector<unsigned>{1, 4}));
  EXPECT_TRUE(gpus_of_user(machine, "carol").empty());
}

TEST(FitToPolicy, LowersARangesMaximumToTheGpusTheLimitLeaves) {
  auto machine = machine_of({held_by(0, {"alice"}), GpuBuilder(1), GpuBuilder(2), GpuBuilder(3)});
  SelectionOptions selection;
  selection.min_gpus = 1;
  selection.max_gpus = 3;
  fit_to_policy(selection, kTwoEach, machine, "alice");
  EXPECT_EQ(selection.min_gpus, 1u);
  EXPECT_EQ(selection.max_gpus, 1u);
}

TEST(FitToPolicy, KeepsARequestWithinTheLimitOrOneWhoseMinimumNoLongerFits) {
  auto machine = machine_of({held_by(0, {"alice"}), held_by(1, {"alice"}), GpuBuilder(2), GpuBuilder(3)});
  SelectionOptions selection;
  selection.min_gpus = 1;
  selection.max_gpus = 2;
  fit_to_policy(selection, kTwoEach, machine, "bob");
  EXPECT_EQ(selection.max_gpus, 2u);
  fit_to_policy(selection, kTwoEach, machine, "alice");  // none left: check_policy says why
  EXPECT_EQ(selection.max_gpus, 2u);
}

TEST(CheckPolicy, ARequestForMoreThanTheLimitIsAnErrorWhoeverHoldsWhat) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1), GpuBuilder(2)});
  auto checked = check_policy(kTwoEach, machine, chose({0, 1, 2}), "alice");
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().kind, ErrorKind::no_suitable_gpu);
  EXPECT_EQ(checked.error().message, kAllowsTwo + " and this asks for 3");
}

TEST(CheckPolicy, NamesTheGpusTheUserHoldsWhenTheChosenOnesWouldBreakTheLimit) {
  auto machine = machine_of({held_by(0, {"alice"}), GpuBuilder(1), held_by(2, {"alice"})});
  auto checked = check_policy(kTwoEach, machine, chose({1}), "alice");
  ASSERT_TRUE(checked);
  EXPECT_EQ(*checked, kAllowsTwo + "; alice already holds 2 (GPU 0, 2) and this asks for 1");
}

TEST(CheckPolicy, SaysGpuForALimitOfOne) {
  auto machine = machine_of({held_by(0, {"alice"}), GpuBuilder(1)});
  auto checked = check_policy(UserPolicy{1, "/etc/with-gpu/config.toml"}, machine, chose({1}), "alice");
  ASSERT_TRUE(checked);
  EXPECT_EQ(*checked, "the policy in /etc/with-gpu/config.toml allows 1 GPU per user at once; alice already holds 1 "
                      "(GPU 0) and this asks for 1");
}

TEST(CheckPolicy, OtherUsersClaimsDoNotCount) {
  auto machine = machine_of({held_by(0, {"bob"}), GpuBuilder(1), held_by(2, {"bob"})});
  auto checked = check_policy(kTwoEach, machine, chose({1}), "alice");
  ASSERT_TRUE(checked);
  EXPECT_EQ(*checked, std::nullopt);
}

TEST(CheckPolicy, AGpuTheUserHoldsAlreadyIsNotCountedTwice) {
  auto machine = machine_of({held_by(0, {"alice"}), held_by(1, {"alice"}, true), GpuBuilder(2)});
  auto checked = check_policy(kTwoEach, machine, chose({1}), "alice");
  ASSERT_TRUE(checked);
  EXPECT_EQ(*checked, std::nullopt);
}

TEST(CheckPolicy, SaysNothingWhenNoGpuWasChosen) {
  auto machine = machine_of({held_by(0, {"alice"}), held_by(1, {"alice"}), GpuBuilder(2)});
  Decision none;
  none.needed = 1;
  auto checked = check_policy(kTwoEach, machine, none, "alice");
  ASSERT_TRUE(checked);
  EXPECT_EQ(*checked, std::nullopt);
}

}  // namespace
}  // namespace wg
