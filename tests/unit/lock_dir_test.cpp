#include "os/lock_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "unit/machine_builder.hpp"
#include "unit/temp_dir.hpp"

namespace wg {
namespace {

using test::GpuBuilder;

class LockDirTest : public ::testing::Test {
 protected:
  test::TempDir temp;
  std::string dir = temp / "locks";
  Gpu a = GpuBuilder(0);
  Gpu b = GpuBuilder(1);
};

TEST_F(LockDirTest, NamesLockFilesByUuid) {
  EXPECT_EQ(LockDir(dir).lock_path(a.uuid), dir + "/gpu-a0000000-1111-2222-3333-444455556666.lock");
}

TEST_F(LockDirTest, CreatesAWorldWritableStickyDirectoryAndSharedFiles) {
  auto held = LockDir(dir).claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(held);
  struct stat info {};
  ASSERT_EQ(stat(dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 01777u);
  ASSERT_EQ(stat(LockDir(dir).lock_path(a.uuid).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0666u);
}

TEST_F(LockDirTest, AClaimExcludesOthersUntilReleased) {
  LockDir first(dir);
  LockDir second(dir);
  auto held = first.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(held && held->held);
  auto refused = second.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->held, nullptr);
  EXPECT_EQ(refused->conflict_index, 0u);
  held->held.reset();
  auto retaken = second.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(retaken);
  EXPECT_NE(retaken->held, nullptr);
}

TEST_F(LockDirTest, DescriptorsKeptAcrossExecMakeTheClaimOursInTheNextProgram) {
  // keep_across_exec clears FD_CLOEXEC, as before exec; a LockDir created afterwards
  // stands for the program exec'd (a with-gpu run inside the command).
  LockDir parent(dir);
  auto held = parent.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(held && held->held);
  held->held->keep_across_exec();
  LockDir nested(dir);
  auto again = nested.claim({&a, &b}, ClaimMode::exclusive);
  ASSERT_TRUE(again);
  EXPECT_NE(again->held, nullptr) << "the inherited claim on a must not keep the nested run out";
  Machine machine = test::machine_of({a, b});
  nested.read_holders(machine);
  ASSERT_EQ(machine.gpus[0].claims.size(), 1u);
  EXPECT_TRUE(machine.gpus[0].claims[0].inherited);
  EXPECT_EQ(blocking_holder(machine.gpus[0], ClaimMode::exclusive), nullptr);
  ASSERT_EQ(machine.gpus[1].claims.size(), 1u);  // b: the nested run's own new claim
  EXPECT_FALSE(machine.gpus[1].claims[0].inherited);
}

TEST_F(LockDirTest, ASetIsClaimedAllOrNothing) {
  LockDir store(dir);
  auto holds_b = store.claim({&b}, ClaimMode::exclusive);
  ASSERT_TRUE(holds_b && holds_b->held);
  auto both = store.claim({&a, &b}, ClaimMode::exclusive);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->conflict_index, 1u);
  auto just_a = store.claim({&a}, ClaimMode::exclusive);  // a was not left held
  ASSERT_TRUE(just_a);
  EXPECT_NE(just_a->held, nullptr);
}

TEST_F(LockDirTest, ReadsHoldersFromTheKernelWithTheirPid) {
  LockDir store(dir);
  auto held = store.claim({&b}, ClaimMode::exclusive);
  ASSERT_TRUE(held && held->held);
  Machine machine = test::machine_of({a, b});
  store.read_holders(machine);
  EXPECT_TRUE(machine.gpus[0].claims.empty());
  ASSERT_EQ(machine.gpus[1].claims.size(), 1u);
  EXPECT_EQ(machine.gpus[1].claims[0].pid, getpid());
  EXPECT_EQ(machine.gpus[1].claims[0].mode, ClaimMode::exclusive);
  std::ifstream file(store.lock_path(b.uuid));
  int pid = 0;
  file >> pid;
  EXPECT_EQ(pid, getpid());
}

TEST_F(LockDirTest, ReadingHoldersOfAMissingDirectoryFindsNone) {
  Machine machine = test::machine_of({a});
  LockDir(dir).read_holders(machine);
  EXPECT_TRUE(machine.gpus[0].claims.empty());
}

TEST_F(LockDirTest, RefusesASymlinkedDirectory) {
  ASSERT_EQ(mkdir((temp / "real").c_str(), 0777), 0);
  ASSERT_EQ(symlink((temp / "real").c_str(), dir.c_str()), 0);
  auto refused = LockDir(dir).claim({&a}, ClaimMode::exclusive);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::lock_dir);
  EXPECT_EQ(refused.error().message, "lock directory " + dir +
                                         " is a symbolic link, which with-gpu refuses; remove it or choose another "
                                         "with --lock-dir");
}

TEST_F(LockDirTest, RefusesAFileInPlaceOfTheDirectory) {
  std::ofstream(dir) << "not a directory";
  auto refused = LockDir(dir).claim({&a}, ClaimMode::exclusive);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "lock directory " + dir + " is not a directory; remove it or choose another with --lock-dir");
}

TEST_F(LockDirTest, DoesNotFollowASymlinkedLockFile) {
  ASSERT_EQ(mkdir(dir.c_str(), 01777), 0);
  std::string victim = temp / "victim";
  std::ofstream(victim) << "precious";
  ASSERT_EQ(symlink(victim.c_str(), LockDir(dir).lock_path(a.uuid).c_str()), 0);
  auto refused = LockDir(dir).claim({&a}, ClaimMode::exclusive);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::lock_dir);
  std::ifstream in(victim);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

}  // namespace
}  // namespace wg
