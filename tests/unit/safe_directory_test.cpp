#include "os/safe_directory.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/temp_dir.hpp"

namespace wg {
namespace {

constexpr uid_t kStranger = 54321;  // no such user: stands for another user

class SafeDirectory : public ::testing::Test {
 protected:
  test::TempDir temp;
  std::string shared = temp / "shared";  // like /tmp: sticky, everyone writes
  void SetUp() override {
    ASSERT_EQ(mkdir(shared.c_str(), 0777), 0);
    ASSERT_EQ(chmod(shared.c_str(), 01777), 0);
    ASSERT_EQ(mkdir((temp / "real").c_str(), 0755), 0);
  }
};

TEST_F(SafeDirectory, CreatesTheLastComponentAndSaysSo) {
  auto made = open_safe_directory(shared + "/locks", CreateLast::yes, 0755);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_TRUE(made->created);
  EXPECT_TRUE(S_ISDIR(made->info.st_mode));
  auto again = open_safe_directory(shared + "/locks", CreateLast::yes, 0755);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
}

TEST_F(SafeDirectory, NeverFollowsTheLastComponent) {
  ASSERT_EQ(symlink((temp / "real").c_str(), (shared + "/locks").c_str()), 0);
  auto refused = open_safe_directory(shared + "/locks", CreateLast::yes, 0755);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "lock directory " + shared +
                                         "/locks is a symbolic link, which with-gpu refuses; remove it or choose "
                                         "another with --lock-dir");
}

TEST_F(SafeDirectory, FollowsALinkOnTheWayThatOnlyTrustedUsersCouldHavePut) {
  ASSERT_EQ(symlink((temp / "real").c_str(), (temp / "via").c_str()), 0);  // ours, in our 0700 directory
  auto opened = open_safe_directory(temp / "via/locks", CreateLast::yes, 0755);
  ASSERT_TRUE(opened) << opened.error().message;
  struct stat info {};
  EXPECT_EQ(stat((temp / "real/locks").c_str(), &info), 0);
}

TEST_F(SafeDirectory, RefusesALinkOnTheWayThatAnotherUserPutInASharedDirectory) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give a symlink to another user (lchown)";
  std::string link = shared + "/m";
  ASSERT_EQ(symlink((temp / "real").c_str(), link.c_str()), 0);
  ASSERT_EQ(lchown(link.c_str(), kStranger, kStranger), 0);
  auto refused = open_safe_directory(link + "/with-gpu", CreateLast::yes, 0755);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "lock directory " + link + "/with-gpu: m on the way is a symbolic link of 54321's in a directory others "
            "can change, which with-gpu does not follow; give the path without it");
  struct stat info {};
  EXPECT_NE(stat((temp / "real/with-gpu").c_str(), &info), 0) << "nothing was made through the link";
}

TEST_F(SafeDirectory, ADirectoryOnTheWayThatIsSwappedAfterwardsDoesNotRedirectTheRest) {
  // Every step is taken through the descriptor of the one before: renaming a directory
  // that was already passed does not move where the rest of the path is looked up.
  std::string parent = shared + "/p";
  ASSERT_EQ(mkdir(parent.c_str(), 0777), 0);
  auto opened = open_safe_directory(parent, CreateLast::no, 0);
  ASSERT_TRUE(opened);
  ASSERT_EQ(rename(parent.c_str(), (shared + "/moved").c_str()), 0);
  ASSERT_EQ(symlink((temp / "real").c_str(), parent.c_str()), 0);
  ASSERT_EQ(mkdirat(opened->fd.get(), "with-gpu", 0755), 0);
  struct stat info {};
  EXPECT_EQ(stat((shared + "/moved/with-gpu").c_str(), &info), 0);
  EXPECT_NE(stat((temp / "real/with-gpu").c_str(), &info), 0);
}

}  // namespace
}  // namespace wg
