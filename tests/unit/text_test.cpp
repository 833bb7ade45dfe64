#include "core/text.hpp"

#include <gtest/gtest.h>

namespace wg {
namespace {

TEST(Trim, RemovesWhitespaceAtBothEndsOnly) {
  EXPECT_EQ(trim("  40 G \t\n"), "40 G");
  EXPECT_EQ(trim("\r\v\f x"), "x");
  EXPECT_EQ(trim("   "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("a b"), "a b");
}

TEST(Trim, RemovesOnlyTheCharactersItIsGiven) {
  EXPECT_EQ(trim(" \t0\n ", " \t"), "0\n");
  EXPECT_EQ(trim("/usr/bin/python3\r\n", "\r\n"), "/usr/bin/python3");
  EXPECT_EQ(trim("\n\n", "\n"), "");
}

TEST(Lowercase, LowersAsciiLettersAndKeepsEverythingElse) {
  EXPECT_EQ(lowercase("GPU-8F3A"), "gpu-8f3a");
  EXPECT_EQ(lowercase("GiB"), "gib");
  EXPECT_EQ(lowercase("Ä A100 · 80GB"), "Ä a100 · 80gb");
  EXPECT_EQ(lowercase(""), "");
}

TEST(StartsWithNocase, ComparesThePrefixWithoutCase) {
  EXPECT_TRUE(starts_with_nocase("gpu-8f3a", "GPU-"));
  EXPECT_TRUE(starts_with_nocase("MIG-1", "mig-"));
  EXPECT_TRUE(starts_with_nocase("anything", ""));
  EXPECT_FALSE(starts_with_nocase("GP", "GPU-"));
  EXPECT_FALSE(starts_with_nocase("GPX-1", "GPU-"));
}

TEST(Join, PutsTheSeparatorBetweenPartsOnly) {
  EXPECT_EQ(join({}, ", "), "");
  EXPECT_EQ(join({"a"}, ", "), "a");
  EXPECT_EQ(join({"a", "b", "c"}, " · "), "a · b · c");
  EXPECT_EQ(join({"", "b"}, ","), ",b");  // empty parts keep their place
}

TEST(JoinWords, SeparatesWithSingleSpaces) {
  EXPECT_EQ(join_words({"python", "train.py", "--lr", "3"}), "python train.py --lr 3");
  EXPECT_EQ(join_words({}), "");
}

TEST(JoinNumbers, TakesAnySeparator) {
  EXPECT_EQ(join_numbers({0, 2, 3}, ","), "0,2,3");
}

}  // namespace
}  // namespace wg
