#include "core/units.hpp"

#include <gtest/gtest.h>

namespace wg {
namespace {

using namespace std::chrono_literals;

TEST(MemorySize, BareNumberIsMiBAsIn05) { EXPECT_EQ(parse_memory_size("2048"), 2048 * kMiB); }

TEST(MemorySize, SingleLettersAndIecSuffixesAreBinary) {
  EXPECT_EQ(parse_memory_size("8G"), 8 * kGiB);
  EXPECT_EQ(parse_memory_size("8GiB"), 8 * kGiB);
  EXPECT_EQ(parse_memory_size("8gib"), 8 * kGiB);
  EXPECT_EQ(parse_memory_size("512M"), 512 * kMiB);
  EXPECT_EQ(parse_memory_size("512MiB"), 512 * kMiB);
  EXPECT_EQ(parse_memory_size("1T"), 1024 * kGiB);
  EXPECT_EQ(parse_memory_size("64K"), 64 * 1024u);
}

TEST(MemorySize, TwoLetterSiSuffixesAreDecimal) {
  EXPECT_EQ(parse_memory_size("8GB"), 8'000'000'000u);
  EXPECT_EQ(parse_memory_size("500MB"), 500'000'000u);
  EXPECT_EQ(parse_memory_size("1kb"), 1000u);
}

TEST(MemorySize, AcceptsDecimalsAndSpaces) {
  EXPECT_EQ(parse_memory_size("1.5GiB"), 1536 * kMiB);
  EXPECT_EQ(parse_memory_size(" 1.5 G "), 1536 * kMiB);
  EXPECT_EQ(parse_memory_size("0"), 0u);
  EXPECT_EQ(parse_memory_size("100B"), 100u);
}

TEST(MemorySize, RejectsJunk) {
  for (const char* bad : {"", "abc", "-1", "8X", "1.2.3", "G", ".", "8 G B", "1e3", "99999999999999999999T"}) {
    EXPECT_FALSE(parse_memory_size(bad).has_value()) << bad;
  }
}

TEST(Duration, BareNumberIsSeconds) { EXPECT_EQ(parse_duration("30"), 30s); }

TEST(Duration, AcceptsUnits) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("2s"), 2s);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("2m"), 120s);
  EXPECT_EQ(parse_duration("1h"), 3600s);
}

TEST(Duration, RejectsJunk) {
  for (const char* bad : {"", "-5", "5x", "s", "5 min", "1e9"}) EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
}

TEST(Unsigned, ParsesWholeNumbersOnly) {
  EXPECT_EQ(parse_unsigned("42"), 42u);
  EXPECT_FALSE(parse_unsigned("4.2"));
  EXPECT_FALSE(parse_unsigned("-1"));
  EXPECT_FALSE(parse_unsigned(""));
  EXPECT_FALSE(parse_unsigned("99999999999"));
}

}  // namespace
}  // namespace wg
