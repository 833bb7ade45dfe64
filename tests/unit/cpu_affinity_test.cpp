#include "os/cpu_affinity.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "os/proc_info.hpp"
#include "support/machine_builder.hpp"
#include "support/temp_dir.hpp"

namespace wg {
namespace {

TEST(SysfsBusId, ConvertsNvmlBusIdsToSysfsNames) {
  EXPECT_EQ(sysfs_bus_id("00000000:1A:00.0"), "0000:1a:00.0");
  EXPECT_EQ(sysfs_bus_id("00000001:C1:1F.7"), "0001:c1:1f.7");
  EXPECT_FALSE(sysfs_bus_id("GPU-1234"));
  EXPECT_FALSE(sysfs_bus_id("00000000:1A:00.0x"));
}

TEST(SysfsLocality, FillsWhatNvmlLeftUnknownAndKeepsNoNumaUnknown) {
  test::TempDir root;
  auto device = [&](const std::string& id, const std::string& cpus, const std::string& node) {
    std::string dir = root / ("bus/pci/devices/" + id);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/local_cpulist") << cpus;
    std::ofstream(dir + "/numa_node") << node;
  };
  device("0000:10:00.0", "0-7\n", "1\n");
  device("0000:11:00.0", "0-15\n", "-1\n");
  Machine machine = test::machine_of({test::GpuBuilder(0), test::GpuBuilder(1), test::GpuBuilder(2)});
  fill_locality_from_sysfs(machine, root.path());
  EXPECT_EQ(machine.gpus[0].local_cpus->to_string(), "0-7");
  EXPECT_EQ(machine.gpus[0].numa_node, 1);
  EXPECT_EQ(machine.gpus[1].local_cpus->to_string(), "0-15");
  EXPECT_FALSE(machine.gpus[1].numa_node);  // -1: a machine without NUMA
  EXPECT_FALSE(machine.gpus[2].local_cpus);  // no such device
}

TEST(CpuAffinity, AllowedCpusAreWhatTheKernelReportsForThisProcess) {
  auto status = read_small_file("/proc/self/status");
  ASSERT_TRUE(status);
  auto line = status->find("Cpus_allowed_list:");
  ASSERT_NE(line, std::string::npos);
  std::string list = status->substr(line + 18, status->find('\n', line) - line - 18);
  list.erase(0, list.find_first_not_of(" \t"));
  EXPECT_EQ(allowed_cpus()->to_string(), list);
  EXPECT_TRUE(online_cpus()->intersects(*allowed_cpus()));
}

TEST(CpuAffinity, PinningRestrictsTheProcess) {
  unsigned cpu = allowed_cpus()->members().back();
  pid_t child = fork();
  if (child == 0) {
    CpuSet one;
    one.add(cpu);
    bool ok = pin_to_cpus(one) && allowed_cpus() == one;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace wg
