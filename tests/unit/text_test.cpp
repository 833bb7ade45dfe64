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

TEST(JoinNumbers, SeparatesWithACommaAndASpace) {
  EXPECT_EQ(join_numbers({}), "");
  EXPECT_EQ(join_numbers({3}), "3");
  EXPECT_EQ(join_numbers({0, 2, 3}), "0, 2, 3");
}

TEST(JoinNumbers, TakesAnySeparator) {
  EXPECT_EQ(join_numbers({0, 2, 3}, ","), "0,2,3");
}

TEST(FitColumns, CutsToTerminalColumnsCountingCharactersNotBytesOrColours) {
  EXPECT_EQ(display_columns("GPU · 3"), 7u);
  EXPECT_EQ(display_columns("\033[31m88C\033[0m"), 3u);
  EXPECT_EQ(fit_columns("abcdef", 4), "abc…");
  EXPECT_EQ(fit_columns("abcd", 4), "abcd");
  EXPECT_EQ(fit_columns("a·b·c·d", 4), "a·b…");
  EXPECT_EQ(fit_columns("\033[31m88C hot\033[0m", 3), "\033[31m88…\033[0m");
  EXPECT_EQ(fit_columns("anything", 0), "anything");
}

TEST(CommandAsScript, NamesTheProgramByItsFileNameAndKeepsTheArguments) {
  EXPECT_EQ(command_as_script("/root/.pyenv/versions/3.11.7/bin/python3.11 train.py --lr 3"), "python3.11 train.py --lr 3");
  EXPECT_EQ(command_as_script("/bin/sleep 30"), "sleep 30");
  EXPECT_EQ(command_as_script("python train.py"), "python train.py");
  EXPECT_EQ(command_as_script("/usr/bin/nvidia-cuda-mps-server"), "nvidia-cuda-mps-server");
  EXPECT_EQ(command_as_script("./run.sh /data/x"), "run.sh /data/x");  // arguments keep their paths
  EXPECT_EQ(command_as_script(""), "");
}

TEST(Printable, KeepsTextAndUtf8AndEscapesControlsAndBrokenBytes) {
  EXPECT_EQ(printable("python train.py --lr 3"), "python train.py --lr 3");
  EXPECT_EQ(printable("résumé 学习"), "résumé 学习");
  EXPECT_EQ(printable("a\nGPU 7: free"), "a\\x0aGPU 7: free");
  EXPECT_EQ(printable("\x1b]0;owned\x07\x1b[2J"), "\\x1b]0;owned\\x07\\x1b[2J");
  EXPECT_EQ(printable("bad \xff byte"), "bad \\xff byte");
  EXPECT_EQ(printable("cut \xe5\xad"), "cut \\xe5\\xad");
  EXPECT_EQ(printable("overlong \xc0\xaf"), "overlong \\xc0\\xaf");
  EXPECT_EQ(printable("c1 \xc2\x9b"), "c1 \\xc2\\x9b");
}

}  // namespace
}  // namespace wg
