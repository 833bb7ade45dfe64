#include "os/device_access.hpp"

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <optional>

#include "support/machine_builder.hpp"
#include "support/temp_dir.hpp"

namespace wg {
namespace {

constexpr uid_t kNobody = 65534;

// A /dev of its own: "nvidia0" anyone may open, "nvidia1" only its owner (root, when the
// tests run as root), no "nvidia2". Plain files: the check asks about permissions, not
// about a driver, and a test cannot make device nodes everywhere.
class DeviceNodes : public ::testing::Test {
 protected:
  DeviceNodes() {
    chmod(dev.path().c_str(), 0755);  // mkdtemp's 0700 would refuse every name in it to others
    node("nvidia0", 0666);
    node("nvidia1", geteuid() == 0 ? 0600 : 0000);
  }

  void node(const std::string& name, mode_t mode) const {
    std::ofstream(dev / name) << "";
    chmod((dev / name).c_str(), mode);
  }

  // Runs `body` where file modes bind and returns what it returns: as root (whom modes do
  // not stop, as a device cgroup would), in a child that has become nobody.
  static int where_modes_bind(const std::function<int()>& body) {
    if (geteuid() != 0) return body();
    pid_t child = fork();
    if (child == 0) {
      if (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) != 0 ||
          setresuid(kNobody, kNobody, kNobody) != 0) {
        _exit(100);
      }
      _exit(body());
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 101;
  }

  // What the check makes of one GPU with minor number `minor` (and access `before`).
  DeviceAccess access_after_check(std::optional<unsigned> minor, const std::string& dev_dir,
                                  DeviceAccess before = DeviceAccess::accessible) const {
    Gpu gpu = test::GpuBuilder(0);
    gpu.minor_number = minor;
    gpu.access = before;
    int answer = where_modes_bind([&] {
      Machine machine = test::machine_of({gpu});
      mark_refused_device_nodes(machine, dev_dir);
      return static_cast<int>(machine.gpus[0].access);
    });
    EXPECT_LE(answer, 2) << "the unprivileged check did not run";
    return static_cast<DeviceAccess>(answer);
  }

  test::TempDir dev;
};

TEST_F(DeviceNodes, ANodeThatRefusesThisProcessMarksItsGpuDenied) {
  EXPECT_EQ(access_after_check(1, dev.path()), DeviceAccess::denied_by_device_node);
  EXPECT_EQ(access_after_check(0, dev.path()), DeviceAccess::accessible);
}

TEST_F(DeviceNodes, AMissingNodeOrDirectoryOrAnUnknownMinorSaysNothing) {
  EXPECT_EQ(access_after_check(2, dev.path()), DeviceAccess::accessible);
  EXPECT_EQ(access_after_check(1, dev / "no-such-dev"), DeviceAccess::accessible);
  EXPECT_EQ(access_after_check(std::nullopt, dev.path()), DeviceAccess::accessible);
}

TEST_F(DeviceNodes, AGpuTheDriverRefusedStaysRefusedByTheDriver) {
  EXPECT_EQ(access_after_check(0, dev.path(), DeviceAccess::denied_by_driver), DeviceAccess::denied_by_driver);
}

TEST_F(DeviceNodes, EachNodeIsAllowedRefusedOrUnknownAsTheKernelAnswers) {
  auto answer = [this](const std::string& name) {
    return static_cast<NodeAccess>(where_modes_bind([&] { return static_cast<int>(device_node_access(dev / name)); }));
  };
  EXPECT_EQ(answer("nvidia0"), NodeAccess::allowed);
  EXPECT_EQ(answer("nvidia1"), NodeAccess::refused);
  EXPECT_EQ(answer("nvidia2"), NodeAccess::unknown);
}

}  // namespace
}  // namespace wg
