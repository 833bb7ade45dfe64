#include "core/cpu_set.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

using test::cpus;

TEST(CpuSet, ParsesAndPrintsTheKernelListFormat) {
  EXPECT_EQ(cpus("0-3,8,10-11").to_string(), "0-3,8,10-11");
  EXPECT_EQ(cpus("3,2,1,0\n").to_string(), "0-3");
  EXPECT_EQ(cpus("64-65,127").members(), (std::vector<unsigned>{64, 65, 127}));
  EXPECT_TRUE(cpus("").empty());
  EXPECT_EQ(cpus("0-23,48-71").count(), 48u);
}

TEST(CpuSet, RejectsJunkReversedRangesAndHugeNumbers) {
  for (const char* bad : {"a", "1-", "-1", "3-1", "1,,2", "0-70000", "1 2", "0x1"}) {
    EXPECT_FALSE(CpuSet::parse(bad)) << bad;
  }
}

TEST(CpuSet, IntersectsAndUnites) {
  EXPECT_EQ(cpus("0-23,48-71").intersection(cpus("20-30")).to_string(), "20-23");
  EXPECT_TRUE(cpus("0-3").intersection(cpus("64-67")).empty());
  EXPECT_FALSE(cpus("0-3").intersects(cpus("4-7")));
  EXPECT_EQ(cpus("0-3").united(cpus("64")).to_string(), "0-3,64");
  EXPECT_EQ(CpuSet::from_words({0x3, 0, 0}).to_string(), "0-1");
  EXPECT_TRUE(CpuSet::from_words({0, 0}) == CpuSet());
}

}  // namespace
}  // namespace wg
