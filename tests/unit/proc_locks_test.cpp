#include "os/proc_locks.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace wg {
namespace {

TEST(ProcLocks, ReadsFlockHoldersAndSkipsWaitersAndPosixLocks) {
  std::istringstream text(
      "1: FLOCK  ADVISORY  WRITE 4242 00:2a:1183 0 EOF\n"
      "1: -> FLOCK  ADVISORY  WRITE 5151 00:2a:1183 0 EOF\n"
      "2: POSIX  ADVISORY  WRITE 777 08:01:99 0 EOF\n"
      "3: FLOCK  ADVISORY  READ 11 fd:01:12345678 0 EOF\n"
      "4: FLOCK  ADVISORY  READ 12 fd:01:12345678 0 EOF\n"
      "garbage\n");
  auto holders = parse_proc_locks(text);
  ASSERT_EQ(holders.size(), 2u);
  auto exclusive = holders.at({0x00, 0x2a, 1183});
  ASSERT_EQ(exclusive.size(), 1u);
  EXPECT_EQ(exclusive[0].pid, 4242);
  EXPECT_EQ(exclusive[0].mode, ClaimMode::exclusive);
  auto shared = holders.at({0xfd, 0x01, 12345678});
  ASSERT_EQ(shared.size(), 2u);
  EXPECT_EQ(shared[1].pid, 12);
  EXPECT_EQ(shared[1].mode, ClaimMode::shared);
}

}  // namespace
}  // namespace wg

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>

#include "support/temp_dir.hpp"

namespace wg {
namespace {

class HolderSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    fd = open((temp / "gpu-x.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(flock(fd, LOCK_EX), 0);
    struct stat info {};
    ASSERT_EQ(fstat(fd, &info), 0);
    key = FileKey{major(info.st_dev), minor(info.st_dev), info.st_ino};
  }
  void TearDown() override { close(fd); }
  test::TempDir temp;
  int fd = -1;
  FileKey key{};
};

TEST_F(HolderSearch, FindsTheProcessHoldingALockThroughItsDescriptors) {
  auto later = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  EXPECT_EQ(flock_held_through(fd, key), ClaimMode::exclusive);
  EXPECT_EQ(process_holds(getpid(), key, later), true);
  auto pids = processes_holding(key, later);
  EXPECT_NE(std::find(pids.begin(), pids.end(), getpid()), pids.end());
}

TEST_F(HolderSearch, StopsAtItsDeadlineSayingItDoesNotKnowRatherThanNo) {
  auto past = std::chrono::steady_clock::now();
  EXPECT_EQ(process_holds(getpid(), key, past), std::nullopt);
  EXPECT_TRUE(processes_holding(key, past).empty()) << "a search out of time reports nobody rather than guessing";
}

}  // namespace
}  // namespace wg
