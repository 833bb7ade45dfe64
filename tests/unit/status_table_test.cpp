#include "output/status_table.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "core/text.hpp"
#include "output/topology_matrix.hpp"
#include "support/machine_builder.hpp"
#include "support/mig_machine.hpp"

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


std::string table_of(const Machine& machine, StatusSource source = {"libnvidia-ml.so.1", false},
                     Colors colors = Colors::off) {
  source.claims.path = "/tmp/with-gpu";
  return render_status_table(machine, source, Style{colors});
}

// The table's rows without the header's two lines.
std::string body(const std::string& table) { return table.substr(table.find('\n', table.find('\n') + 1) + 1); }

TEST(StatusTableMig, InstancesNestUnderTheirGpuWithProfileMemoryProcessesAndClaims) {
  EXPECT_EQ(body(table_of(test::h100_split_in_use())),
            "GPU  NAME                          MEMORY USED / TOTAL      UTIL  TEMP       POWER  PROCS  STATE\n"
            "  0  NVIDIA H100 80GB HBM3         1024 / 81559 MiB (1%)           41C  92 / 700 W         MIG: 3 instances\n"
            "     ├ MIG 3g.40gb #0 (GI 1 CI 0)  20480 / 40192 MiB (51%)   n/a                        1  USED\n"
            "       pid 4242 (20480 MiB)\n"
            "     ├ MIG 2g.20gb #1 (GI 5 CI 0)  0 / 20096 MiB (0%)        n/a                        0  CLAIMED by pid 311\n"
            "     └ MIG 2g.20gb #2 (GI 6 CI 0)  0 / 20096 MiB (0%)        n/a                        0  IDLE\n"
            "  1  NVIDIA H100 80GB HBM3         0 / 81559 MiB (0%)         0%   35C  70 / 700 W      0  IDLE\n");
}

TEST(StatusTableMig, TheHeaderCountsGpusAndInstancesApart) {
  std::string table = table_of(test::h100_split_in_use());
  EXPECT_EQ(table.substr(0, table.find(" · driver")), "2 GPUs · 3 MIG instances");
}

TEST(StatusTableMig, NamingAnInstanceShowsItUnderItsGpuAlone) {
  StatusSource source{"libnvidia-ml.so.1", false};
  source.rows = std::vector<unsigned>{3};
  std::string rows = body(table_of(test::h100_split_in_use(), source));
  EXPECT_EQ(rows,
            "GPU  NAME                          MEMORY USED / TOTAL    UTIL  TEMP       POWER  PROCS  STATE\n"
            "  0  NVIDIA H100 80GB HBM3         1024 / 81559 MiB (1%)         41C  92 / 700 W         MIG: 3 instances\n"
            "     └ MIG 2g.20gb #1 (GI 5 CI 0)  0 / 20096 MiB (0%)      n/a                        0  CLAIMED by pid 311\n");
}

TEST(StatusTableMig, NamingTheGpuShowsAllItsInstances) {
  StatusSource source{"libnvidia-ml.so.1", false};
  source.rows = std::vector<unsigned>{0};
  std::string rows = body(table_of(test::h100_split_in_use(), source));
  EXPECT_NE(rows.find("├ MIG 3g.40gb #0"), std::string::npos) << rows;
  EXPECT_NE(rows.find("└ MIG 2g.20gb #2"), std::string::npos) << rows;
  EXPECT_EQ(rows.find("  1  NVIDIA"), std::string::npos) << rows;
}

TEST(StatusTableMig, APendingChangeOfModeIsSaid) {
  Machine machine = test::h100_split_in_use();
  machine.gpus[0].mig_modes->pending = MigMode::disabled;
  machine.gpus[1].mig_modes->pending = MigMode::enabled;
  std::string rows = body(table_of(machine));
  EXPECT_NE(rows.find("MIG: 3 instances · MIG pending: disable after reset\n"), std::string::npos) << rows;
  EXPECT_NE(rows.find("IDLE · MIG pending: enable after reset\n"), std::string::npos) << rows;
}

TEST(StatusTableMig, AGpuInMigModeWithoutInstancesSaysSo) {
  Machine machine = test::h100_split_in_use();
  machine.gpus.resize(2);
  EXPECT_NE(table_of(machine).find("MIG: no instances\n"), std::string::npos);
}

TEST(StatusTableMig, InstancesAreColouredAsGpusAndTheirGpuIsAHeading) {
  std::string table = table_of(test::h100_split_in_use(), {"libnvidia-ml.so.1", false}, Colors::on);
  EXPECT_NE(table.find("\033[33mUSED\033[0m"), std::string::npos) << table;
  EXPECT_NE(table.find("\033[35mCLAIMED by pid 311\033[0m"), std::string::npos) << table;
  EXPECT_NE(table.find("\033[32mIDLE\033[0m\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  MIG: 3 instances\n"), std::string::npos) << table;
}

TEST(StatusTableMig, AThresholdColoursAnInstancesMemoryAndNoEmptyCell) {
  SelectionOptions limits;
  limits.min_free_bytes = 30000 * test::MiB;
  StatusSource source{"libnvidia-ml.so.1", false};
  source.thresholds = &limits;
  std::string table = table_of(test::h100_split_in_use(), source, Colors::on);
  EXPECT_NE(table.find("\033[31m0 / 20096 MiB (0%)\033[0m"), std::string::npos) << table;
  EXPECT_EQ(table.find("\033[31m\033[0m"), std::string::npos) << table;
}

TEST(StatusTableMig, EveryLineFitsANarrowTerminal) {
  StatusSource source{"libnvidia-ml.so.1", false};
  source.columns = 60;
  std::istringstream lines(table_of(test::h100_split_in_use(), source));
  for (std::string line; std::getline(lines, line);) EXPECT_LE(display_columns(line), 60u) << line;
}

TEST(StatusTableMig, NarrowTerminalsDropTheInstanceIdsWithTheModelPrefix) {
  StatusSource source{"libnvidia-ml.so.1", false};
  source.columns = 80;
  std::string rows = body(table_of(test::h100_split_in_use(), source));
  EXPECT_NE(rows.find("\n  0  H100 80GB HBM3    1024 / 81559 MiB (1%)          MIG: 3 instances\n"), std::string::npos)
      << rows;
  EXPECT_NE(rows.find("\n     └ MIG 2g.20gb #2  0 / 20096 MiB (0%)        n/a  IDLE\n"), std::string::npos) << rows;
}

TEST(StatusTableMig, TheTopologyMatrixJoinsWholeGpusOnly) {
  Machine machine = test::h100_split_in_use();
  machine.links.assign(2, std::vector<GpuLink>(2));
  machine.links[0][1].nvlinks = machine.links[1][0].nvlinks = 18;
  std::string matrix = render_topology_matrix(machine);
  EXPECT_EQ(matrix.substr(0, matrix.find("\n\n")),
            "      GPU0  GPU1  CPU AFFINITY  NUMA\n"
            "GPU0  X     NV18  n/a           n/a\n"
            "GPU1  NV18  X     n/a           n/a");
}

}  // namespace
}  // namespace wg
