#include "output/table.hpp"

#include <gtest/gtest.h>

namespace wg {
namespace {

TEST(ColumnWidths, AreTheWidestCellsInTerminalColumns) {
  EXPECT_EQ(column_widths({{"GPU", "NAME"}, {"0", "A100 · 80GB"}, {"10"}}), (std::vector<std::size_t>{3, 11}));
  EXPECT_EQ(column_widths({{"\033[31m88C\033[0m"}, {"7C"}}), (std::vector<std::size_t>{3}));
  EXPECT_TRUE(column_widths({}).empty());
}

TEST(Pad, FillsToTheWidthOnTheOtherSideOfTheAlignment) {
  EXPECT_EQ(pad("7", 3, Align::left), "7  ");
  EXPECT_EQ(pad("7", 3, Align::right), "  7");
  EXPECT_EQ(pad("·", 2, Align::left), "· ");
  EXPECT_EQ(pad("\033[31m88C\033[0m", 4, Align::right), " \033[31m88C\033[0m");
  EXPECT_EQ(pad("wide", 2, Align::left), "wide");
}

TEST(FormatTable, AlignsColumnsTwoSpacesApartWithoutTrailingSpaces) {
  EXPECT_EQ(format_table({{"", "GPU0", "GPU1", "NUMA"}, {"GPU0", "X", "NV4", "0"}, {"GPU1", "NV4", "X", "n/a"}}),
            "      GPU0  GPU1  NUMA\n"
            "GPU0  X     NV4   0\n"
            "GPU1  NV4   X     n/a\n");
}

TEST(FormatTable, RightAlignsTheColumnsItIsTold) {
  EXPECT_EQ(format_table({{"GPU", "UTIL", "NAME"}, {"0", "7%", "A100"}, {"12", "100%", "H100"}},
                         {Align::right, Align::right}),
            "GPU  UTIL  NAME\n"
            "  0    7%  A100\n"
            " 12  100%  H100\n");
}

TEST(FormatTable, EndsABlankRowAsAnEmptyLine) {
  EXPECT_EQ(format_table({{"a", "b"}, {"", ""}}), "a  b\n\n");
  EXPECT_EQ(format_table({}), "");
}

TEST(FitLines, CutsEveryLineToTheColumns) {
  EXPECT_EQ(fit_lines("abcdef\nab\n", 4), "abc…\nab\n");
  EXPECT_EQ(fit_lines("abcdef\nab", 0), "abcdef\nab");
}

}  // namespace
}  // namespace wg
