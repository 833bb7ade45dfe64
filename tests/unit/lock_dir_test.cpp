#include "os/lock_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "support/machine_builder.hpp"
#include "support/temp_dir.hpp"

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
  // keep_across_exec clears FD_CLOEXEC, as before exec; a LockDir created afterwards with
  // the descriptors named (WITH_GPU_CLAIMS) stands for the program exec'd (a with-gpu
  // run inside the command).
  LockDir parent(dir);
  auto held = parent.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(held && held->held);
  held->held->keep_across_exec();
  LockDir nested(dir, held->held->descriptors());
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
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->held, nullptr);
  EXPECT_EQ(refused->problem_index, 0u);
  ASSERT_TRUE(refused->problem);
  EXPECT_EQ(refused->problem->kind, LockFileProblem::not_regular);
  EXPECT_EQ(refused->problem->type, FileType::symlink);
  std::ifstream in(victim);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(LockDirTest, AStrayDescriptorOnALockFileIsNotAnInheritedClaim) {
  // A shell's `exec 9<"$lock"; flock -n 9 || echo busy` leaves a descriptor that holds
  // nothing while another job holds the GPU; even named, it proves no claim.
  LockDir holder(dir);
  auto held = holder.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(held && held->held);
  int stray = open(holder.lock_path(a.uuid).c_str(), O_RDONLY);  // no O_CLOEXEC, like the shell's
  ASSERT_GE(stray, 0);
  LockDir child(dir, std::to_string(stray));
  auto refused = child.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->held, nullptr);
  EXPECT_EQ(refused->conflict_index, 0u);
  Machine machine = test::machine_of({a});
  child.read_holders(machine);
  ASSERT_EQ(machine.gpus[0].claims.size(), 1u);
  EXPECT_FALSE(machine.gpus[0].claims[0].inherited);
  close(stray);
}

TEST_F(LockDirTest, AnUnnamedInheritedDescriptorIsNotAClaimEither) {
  LockDir parent(dir);
  auto held = parent.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(held && held->held);
  held->held->keep_across_exec();
  auto refused = LockDir(dir).claim({&a}, ClaimMode::exclusive);  // no WITH_GPU_CLAIMS
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->conflict_index, 0u);
}

TEST_F(LockDirTest, ClaimsKeepOneDescriptorPerGpu) {
  LockDir store(dir);
  auto held = store.claim({&a, &b}, ClaimMode::exclusive);
  ASSERT_TRUE(held && held->held);
  std::string fds = held->held->descriptors();
  EXPECT_EQ(std::count(fds.begin(), fds.end(), ',') + 1, 2) << fds;
  for (const std::string& fd : {fds.substr(0, fds.find(',')), fds.substr(fds.find(',') + 1)}) {
    EXPECT_EQ(fcntl(std::stoi(fd), F_GETFL) & O_ACCMODE, O_RDWR) << "its close must wake waiters";
  }
}

TEST_F(LockDirTest, APlantedFifoMakesThatGpuUnavailableWithoutBlocking) {
  ASSERT_EQ(mkdir(dir.c_str(), 01777), 0);
  ASSERT_EQ(mkfifo(LockDir(dir).lock_path(a.uuid).c_str(), 0666), 0);
  LockDir store(dir);
  auto refused = store.claim({&a}, ClaimMode::exclusive);  // would hang in open() without O_NONBLOCK
  ASSERT_TRUE(refused);
  ASSERT_TRUE(refused->problem);
  EXPECT_EQ(refused->problem->type, FileType::fifo);
  EXPECT_EQ(refused->problem->path, store.lock_path(a.uuid));
  auto other = store.claim({&b}, ClaimMode::exclusive);
  ASSERT_TRUE(other);
  EXPECT_NE(other->held, nullptr);
  Machine machine = test::machine_of({a, b});
  store.read_holders(machine);
  ASSERT_TRUE(machine.gpus[0].lock_problem);
  EXPECT_EQ(machine.gpus[0].lock_problem->kind, LockFileProblem::not_regular);
  EXPECT_FALSE(machine.gpus[1].lock_problem);
}

TEST_F(LockDirTest, AWaiterStillSeesAClaimWhoseLockFileWasDeleted) {
  LockDir holder(dir);
  auto held = holder.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(held && held->held);
  LockDir waiter(dir);
  Machine machine = test::machine_of({a});
  ASSERT_TRUE(waiter.claim({&a}, ClaimMode::exclusive));
  waiter.track_claims(machine);
  ASSERT_EQ(unlink(holder.lock_path(a.uuid).c_str()), 0);
  EXPECT_TRUE(waiter.tracks_deleted_claims());
  auto refused = waiter.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->conflict_index, 0u) << "a new lock file must not hide the claim on the deleted one";
  waiter.read_holders(machine);
  ASSERT_EQ(machine.gpus[0].claims.size(), 1u);
  EXPECT_TRUE(machine.gpus[0].claims[0].file_deleted);
  held->held.reset();  // the holder ends
  auto taken = waiter.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(taken);
  EXPECT_NE(taken->held, nullptr);
  EXPECT_FALSE(waiter.tracks_deleted_claims());
}

TEST_F(LockDirTest, AWaiterSeesClaimsThroughARemovedDirectory) {
  LockDir holder(dir);
  auto held = holder.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(held && held->held);
  LockDir waiter(dir);
  Machine machine = test::machine_of({a, b});
  ASSERT_TRUE(waiter.claim({&b}, ClaimMode::exclusive));  // opens the directory
  waiter.track_claims(machine);
  std::filesystem::remove_all(dir);
  auto refused = waiter.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->conflict_index, 0u);
  struct stat info {};
  EXPECT_EQ(stat(dir.c_str(), &info), 0) << "the directory is made again";
}

TEST_F(LockDirTest, ATrailingSlashDoesNotFollowASymlinkedDirectory) {
  ASSERT_EQ(mkdir((temp / "real").c_str(), 0777), 0);
  ASSERT_EQ(symlink((temp / "real").c_str(), dir.c_str()), 0);
  auto refused = LockDir(dir + "/").claim({&a}, ClaimMode::exclusive);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::lock_dir);
}

TEST_F(LockDirTest, AnExistingDirectoryKeepsItsMode) {
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ASSERT_TRUE(LockDir(dir).claim({&a}, ClaimMode::exclusive));
  struct stat info {};
  ASSERT_EQ(stat(dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u) << "with-gpu opens up only a directory it made";
}

TEST_F(LockDirTest, TheHardenedDirectoryIsPreferredOnlyWhenRootOwnsItAlone) {
  std::string hardened = temp / "run";
  EXPECT_EQ(default_lock_dir(hardened, "/tmp/with-gpu"), "/tmp/with-gpu");  // missing
  ASSERT_EQ(mkdir(hardened.c_str(), 0755), 0);
  ASSERT_EQ(chmod(hardened.c_str(), 0755), 0);
  EXPECT_EQ(default_lock_dir(hardened, "/tmp/with-gpu"), geteuid() == 0 ? hardened : "/tmp/with-gpu");
  ASSERT_EQ(chmod(hardened.c_str(), 01777), 0);
  EXPECT_EQ(default_lock_dir(hardened, "/tmp/with-gpu"), "/tmp/with-gpu");
}

TEST_F(LockDirTest, InitMakesRootsDirectoryWithALockFileForEveryGpu) {
  std::string hardened = temp / "run/with-gpu";
  ASSERT_EQ(mkdir((temp / "run").c_str(), 0755), 0);
  auto made = init_hardened_lock_dir(hardened, {a.uuid, b.uuid});
  if (geteuid() != 0) {
    ASSERT_FALSE(made);
    EXPECT_EQ(made.error().message, "--init-lock-dir makes a directory that only root can change: run it as root "
                                    "(sudo with-gpu --init-lock-dir)");
    return;
  }
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(*made, "with-gpu: lock directory " + hardened +
                       " is ready: owned by root, mode 0755, 2 lock files (root's, mode 0666); users can claim GPUs "
                       "but cannot delete, replace or plant files; queue/ (mode 1777) holds the waiting line\n");
  struct stat info {};
  ASSERT_EQ(stat(hardened.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0755u);
  EXPECT_EQ(info.st_uid, 0u);
  ASSERT_EQ(lstat((hardened + "/queue").c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 01777u);
  EXPECT_EQ(info.st_uid, 0u);
  for (const Gpu* gpu : {&a, &b}) {
    ASSERT_EQ(lstat(LockDir(hardened).lock_path(gpu->uuid).c_str(), &info), 0);
    EXPECT_TRUE(S_ISREG(info.st_mode));
    EXPECT_EQ(info.st_mode & 07777, 0666u);
    EXPECT_EQ(info.st_uid, 0u);
  }
  EXPECT_TRUE(LockDir(hardened).place().hardened);
}

}  // namespace
}  // namespace wg

namespace wg {
namespace {

class LockDirAttacks : public LockDirTest {};

TEST_F(LockDirAttacks, AnExclusiveRunInsideASharedClaimIsNotServedByIt) {
  LockDir parent(dir);
  auto held = parent.claim({&a}, ClaimMode::shared);
  ASSERT_TRUE(held && held->held);
  held->held->keep_across_exec();
  LockDir nested(dir, held->held->descriptors());
  auto exclusive = nested.claim({&a}, ClaimMode::exclusive);
  ASSERT_TRUE(exclusive);
  EXPECT_EQ(exclusive->held, nullptr) << "other --share jobs may join the parent's GPU at any time";
  Machine machine = test::machine_of({a});
  nested.read_holders(machine);
  ASSERT_EQ(machine.gpus[0].claims.size(), 1u);
  EXPECT_NE(blocking_holder(machine.gpus[0], ClaimMode::exclusive), nullptr);
  EXPECT_EQ(blocking_holder(machine.gpus[0], ClaimMode::shared), nullptr);
  auto shared = nested.claim({&a}, ClaimMode::shared);
  ASSERT_TRUE(shared);
  EXPECT_NE(shared->held, nullptr);
}

TEST_F(LockDirAttacks, AHardLinkedLockFileIsAProblemNotASecondGpusClaim) {
  LockDir store(dir);
  ASSERT_TRUE(store.claim({&a}, ClaimMode::exclusive));  // makes a's file
  ASSERT_EQ(link(store.lock_path(a.uuid).c_str(), store.lock_path(b.uuid).c_str()), 0);
  auto refused = store.claim({&b}, ClaimMode::exclusive);
  ASSERT_TRUE(refused);
  ASSERT_TRUE(refused->problem);
  EXPECT_EQ(refused->problem->kind, LockFileProblem::linked);
  EXPECT_EQ(refused->problem->links, 2u);
}

TEST_F(LockDirAttacks, ALeaseOnOneLockFileRulesOutThatGpuOnly) {
  LockDir store(dir);
  ASSERT_TRUE(store.claim({&a, &b}, ClaimMode::exclusive));  // makes both files, then lets go
  // Another process takes a write lease: every other open must wait for it (or, without
  // blocking, fail). It ignores SIGIO, the signal that asks it to give the lease up.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t holder = fork();
  if (holder == 0) {
    signal(SIGIO, SIG_IGN);
    int leased = open(store.lock_path(a.uuid).c_str(), O_RDONLY);
    char answer = leased >= 0 && fcntl(leased, F_SETLEASE, F_WRLCK) == 0 ? 'y' : 'n';
    [[maybe_unused]] auto written = write(ready[1], &answer, 1);
    pause();
    _exit(0);
  }
  char answer = 'n';
  ASSERT_EQ(read(ready[0], &answer, 1), 1);
  close(ready[0]);
  close(ready[1]);
  if (answer != 'y') {
    kill(holder, SIGKILL);
    waitpid(holder, nullptr, 0);
    GTEST_SKIP() << "cannot take a lease here";
  }
  auto refused = LockDir(dir).claim({&a}, ClaimMode::exclusive);
  auto other = LockDir(dir).claim({&b}, ClaimMode::exclusive);
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  ASSERT_TRUE(refused) << refused.error().message;
  EXPECT_EQ(refused->held, nullptr);
  ASSERT_TRUE(refused->problem);
  EXPECT_EQ(refused->problem->kind, LockFileProblem::cannot_open);
  EXPECT_EQ(refused->problem->error, EWOULDBLOCK);
  ASSERT_TRUE(other);
  EXPECT_NE(other->held, nullptr);
}

TEST_F(LockDirAttacks, ClaimsHeldInADirectoryAreCounted) {
  LockDir store(dir);
  auto held = store.claim({&a}, ClaimMode::shared);
  ASSERT_TRUE(held && held->held);
  ASSERT_TRUE(LockDir(dir).claim({&b}, ClaimMode::exclusive));  // made, released
  EXPECT_EQ(claims_held_in(dir, {a.uuid, b.uuid}), 1u);
  EXPECT_EQ(claims_held_in(temp / "nowhere", {a.uuid}), 0u);
}

TEST_F(LockDirAttacks, InitLeavesAnotherUsersDirectoryAlone) {
  if (geteuid() != 0) GTEST_SKIP() << "--init-lock-dir runs as root";
  std::string theirs = temp / "theirs";
  ASSERT_EQ(mkdir(theirs.c_str(), 0700), 0);
  ASSERT_EQ(chown(theirs.c_str(), 54321, 54321), 0);
  auto refused = init_hardened_lock_dir(theirs, {a.uuid});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "--init-lock-dir: " + theirs + " exists and belongs to 54321; remove it first "
                                     "or choose another path");
  struct stat info {};
  ASSERT_EQ(stat(theirs.c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, 54321u);
  EXPECT_EQ(info.st_mode & 07777, 0700u);
}

}  // namespace
}  // namespace wg
