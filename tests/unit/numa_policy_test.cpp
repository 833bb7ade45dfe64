#include "os/numa_policy.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "os/proc_info.hpp"

namespace wg {
namespace {

TEST(NumaPolicy, PrefersAnAllowedNodeForTheProcessAndWhatItExecs) {
  if (!std::filesystem::exists("/sys/devices/system/node/node0") || !std::filesystem::exists("/proc/self/numa_maps")) {
    GTEST_SKIP() << "no NUMA support in this kernel";
  }
  pid_t child = fork();
  if (child == 0) {
    auto preferred = prefer_memory_nodes({0});
    auto maps = read_small_file("/proc/self/numa_maps");
    bool ok = preferred && *preferred == std::vector<int>{0} && maps && maps->find("prefer:0") != std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(NumaPolicy, RefusesNodesTheProcessMayNotUse) {
  if (std::filesystem::exists("/sys/devices/system/node/node63")) GTEST_SKIP() << "a machine with node 63";
  auto preferred = prefer_memory_nodes({63});
  ASSERT_FALSE(preferred);
  EXPECT_EQ(preferred.error().message, "NUMA node 63 is not one this process may allocate on");
}

}  // namespace
}  // namespace wg
