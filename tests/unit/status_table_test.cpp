#include "output/status_table.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;

TEST(Format, StatusShowsAnImpossibleReadingAsNaWithItsReason) {
  auto machine = machine_of({GpuBuilder(0).impossible_memory(40960, 51200)});
  std::string table = render_status_table(machine, {"libnvidia-ml.so.1", false}, Style{Colors::off});
  EXPECT_NE(table.find("  0  NVIDIA A100-SXM4-40GB  n/a "), std::string::npos) << table;
  EXPECT_NE(table.find("(memory reading is impossible (free 50.0 GiB > total 40.0 GiB))\n"), std::string::npos) << table;
}

TEST(Format, StateWords) {
  EXPECT_EQ(gpu_state(GpuBuilder(0)), "IDLE");
  EXPECT_EQ(gpu_state(GpuBuilder(0).process(1, 10)), "USED");
  EXPECT_EQ(gpu_state(GpuBuilder(0).processes_refused()), "USED");
  EXPECT_EQ(gpu_state(GpuBuilder(0).claimed_by(99)), "CLAIMED by pid 99");
  EXPECT_EQ(gpu_state(GpuBuilder(0).claimed_by(5, ClaimMode::shared).claimed_by(6, ClaimMode::shared)),
            "SHARED by pid 5, pid 6");
  EXPECT_EQ(gpu_state(GpuBuilder(0).lost()), "UNUSABLE: GPU is lost");
}

TEST(Format, StatusTableHasNoEscapeCodesWithoutColors) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1).lost()});
  std::string plain = render_status_table(machine, {"libnvidia-ml.so.1", false}, Style{Colors::off});
  EXPECT_EQ(plain.find('\033'), std::string::npos);
  EXPECT_NE(plain.find("UNUSABLE: GPU is lost"), std::string::npos);
  std::string colored = render_status_table(machine, {"libnvidia-ml.so.1", false}, Style{Colors::on});
  EXPECT_NE(colored.find("\033[32mIDLE\033[0m"), std::string::npos);
}

}  // namespace
}  // namespace wg
