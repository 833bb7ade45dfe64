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
