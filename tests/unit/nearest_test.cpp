#include "core/nearest.hpp"

#include <gtest/gtest.h>

namespace wg {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndReplacements) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("gpu", "gpu"), 0u);
  EXPECT_EQ(edit_distance("", "gpu"), 3u);
  EXPECT_EQ(edit_distance("gpu", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("max_util", "max_utilisation"), 7u);
  EXPECT_EQ(edit_distance("default", "defaults"), 1u);
  EXPECT_EQ(edit_distance("ab", "ba"), 2u);  // a swap is two edits
}

TEST(Nearest, PrefersAKnownNameThatStartsTheWord) {
  std::vector<std::string> keys = {"max_temp", "max_util", "max_power", "min_memory"};
  EXPECT_EQ(nearest("max_temperature", keys), "max_temp");
  EXPECT_EQ(nearest("max_utilisation", keys), "max_util");
}

TEST(Nearest, TakesTheLongestNameThatStartsTheWord) {
  EXPECT_EQ(nearest("max_gpus_per_user_x", {"max_gpus", "max_gpus_per_user"}), "max_gpus_per_user");
}

TEST(Nearest, ShortNamesDoNotCountAsPrefixes) {
  // "gpu" starts "gpus" but is under 5 characters: closeness decides, and "gpu" is 1 edit away.
  EXPECT_EQ(nearest("gpus", {"gpu", "gpus_total"}), "gpu");
}

TEST(Nearest, TakesTheClosestNameTiesGoingToTheEarlierOne) {
  EXPECT_EQ(nearest("lmm", {"inference", "llm"}), "llm");
  EXPECT_EQ(nearest("ab", {"ax", "xb"}), "ax");
  EXPECT_EQ(nearest("ab", {"xb", "ax"}), "xb");
}

TEST(Nearest, SuggestsNothingTooFarAway) {
  EXPECT_EQ(nearest("zzzzzz", {"defaults", "profiles", "policy"}), std::nullopt);
  EXPECT_EQ(nearest("anything", {}), std::nullopt);
  // Within max(3, length / 3) edits: three for short words, more for long ones.
  EXPECT_EQ(nearest("abc", {"xyz"}), "xyz");
  EXPECT_EQ(nearest("abcd", {"wxyz"}), std::nullopt);
  EXPECT_EQ(nearest("abcdefghijklmnop", {"abcdefghijkVWXYZ"}), "abcdefghijkVWXYZ");
  EXPECT_EQ(nearest("abcdefghijklmnop", {"abcdefghijUVWXYZ"}), std::nullopt);
}

}  // namespace
}  // namespace wg
