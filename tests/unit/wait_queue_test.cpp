#include "os/wait_queue.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "os/fd.hpp"
#include "support/temp_dir.hpp"
#include "support/tickets.hpp"

namespace wg {
namespace {

using test::ticket;

const std::vector<std::string> kUuids = {"GPU-a", "GPU-b", "GPU-c"};

TEST(TicketQueue, ATicketIsReadBackAndLeavesNothingBehind) {
  test::TempDir dir;
  TicketQueue mine(dir.path());
  mine.use_gpus(kUuids);
  Ticket own = ticket(100, static_cast<int>(getpid()), {0, 2}, 2);
  own.command = "python train.py --lr \x1b[31m";
  ASSERT_TRUE(mine.enter(own));
  EXPECT_EQ(mine.own(), own.name);
  EXPECT_EQ(std::filesystem::status(queue_path(dir.path())).permissions(), std::filesystem::perms::all |
                                                                                std::filesystem::perms::sticky_bit);
  TicketQueue other(dir.path());
  other.use_gpus({"GPU-c", "GPU-b", "GPU-a"});  // another container numbers them otherwise
  auto line = other.read({}).tickets;
  ASSERT_EQ(line.size(), 1u);
  EXPECT_EQ(line[0].name, own.name);
  EXPECT_EQ(line[0].arrival_ns, 100);
  EXPECT_EQ(line[0].needed, 2u);
  EXPECT_EQ(line[0].usable, (std::vector<unsigned>{0, 2}));  // GPU-a and GPU-c, by the reader's numbers
  EXPECT_EQ(line[0].command, "python train.py --lr \\x1b[31m");
  own.usable = {2};
  ASSERT_TRUE(mine.enter(own));
  EXPECT_EQ(other.read({}).tickets[0].usable, (std::vector<unsigned>{0}));
  mine.leave();
  EXPECT_TRUE(other.read({}).tickets.empty());
  EXPECT_TRUE(std::filesystem::is_empty(queue_path(dir.path())));
}

TEST(TicketQueue, AWaiterReadsBackFromTheNewestOlderTicketOnlyUntilItsGpusAreCovered) {
  test::TempDir dir;
  std::vector<std::unique_ptr<TicketQueue>> waiters;
  for (int i = 1; i <= 4; ++i) {
    waiters.push_back(std::make_unique<TicketQueue>(dir.path()));
    waiters.back()->use_gpus(kUuids);
    ASSERT_TRUE(waiters.back()->enter(ticket(i, static_cast<int>(getpid()), i == 2 ? std::vector<unsigned>{0} :
                                                                                     std::vector<unsigned>{0, 1})));
  }
  TicketQueue reader(dir.path());
  reader.use_gpus(kUuids);
  LineQuery query;
  query.before = ticket_name(4, static_cast<int>(getpid()));
  query.covering = std::vector<unsigned>{0, 1};
  query.from = LineQuery::From::newest;
  Line line = reader.read(query);
  ASSERT_EQ(line.tickets.size(), 1u);  // the third covers both GPUs: the first two are not read
  EXPECT_EQ(line.tickets[0].arrival_ns, 3);
  EXPECT_EQ(line.tickets[0].place, 3u);
  EXPECT_EQ(line.older, 3u);
  EXPECT_EQ(line.total, 4u);
  query.from = LineQuery::From::oldest;
  query.covering = std::vector<unsigned>{1};
  line = reader.read(query);
  ASSERT_EQ(line.tickets.size(), 1u);
  EXPECT_EQ(line.tickets[0].arrival_ns, 1);
  EXPECT_EQ(reader.read({}).tickets.size(), 4u);
}

TEST(TicketQueue, AStoppedWaiterKeepsNothingUntilItRunsAgain) {
  test::TempDir dir;
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  TicketQueue waiter(dir.path());
  waiter.use_gpus(kUuids);
  ASSERT_TRUE(waiter.enter(ticket(1, child, {0, 1})));
  TicketQueue reader(dir.path());
  reader.use_gpus(kUuids);
  EXPECT_FALSE(reader.read({}).tickets[0].stopped);
  kill(child, SIGSTOP);
  waitpid(child, nullptr, WUNTRACED);
  auto stopped = reader.read({}).tickets;
  ASSERT_EQ(stopped.size(), 1u);  // still in line, in its place
  EXPECT_TRUE(stopped[0].stopped);
  EXPECT_TRUE(stopped[0].usable.empty());
  kill(child, SIGCONT);
  waitpid(child, nullptr, WCONTINUED);
  EXPECT_EQ(reader.read({}).tickets[0].usable, (std::vector<unsigned>{0, 1}));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

// Anyone may write a ticket: numbers that do not fit, a huge file, junk. None of it may
// crash or hang a reader; a live ticket it cannot read is in line and keeps nothing.
TEST(TicketQueue, AHostileTicketIsInLineButKeepsNothing) {
  test::TempDir dir;
  std::filesystem::create_directory(queue_path(dir.path()));
  std::vector<UniqueFd> locks;
  int arrival = 1;
  for (const std::string& text :
       {std::string("with-gpu-ticket 1\narrival 9999999999999999999\npid 1\nneeded 1\nmode exclusive\n"
                    "usable GPU-a\ncommand x\nend\n"),
        std::string("with-gpu-ticket 1\narrival 5\npid 99999999999\nneeded 18446744073709551616\nmode x\n"
                    "usable GPU-a\ncommand x\nend\n"),
        std::string("with-gpu-ticket 1\narrival 5\npid 1\nneeded 1\nmode exclusive\nusable GPU-a") +
            std::string(100000, ',') + "\ncommand x\nend\n",
        std::string(3000, '\xff')}) {
    std::string path = queue_path(dir.path()) + "/" + ticket_name(arrival++, 424242);
    FILE* file = std::fopen(path.c_str(), "w");
    std::fwrite(text.data(), 1, text.size(), file);
    std::fclose(file);
    locks.emplace_back(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_EQ(flock(locks.back().get(), LOCK_EX | LOCK_NB), 0);
  }
  TicketQueue reader(dir.path());
  reader.use_gpus(kUuids);
  auto line = reader.read({}).tickets;
  ASSERT_EQ(line.size(), 4u);
  for (const auto& ticket : line) EXPECT_TRUE(ticket.usable.empty()) << ticket.name;
}

TEST(TicketQueue, ATicketWhoseLockIsFreeIsDeadAndRemoved) {
  test::TempDir dir;
  std::filesystem::create_directory(queue_path(dir.path()));
  std::string dead = queue_path(dir.path()) + "/" + ticket_name(5, 999999);
  FILE* file = std::fopen(dead.c_str(), "w");
  std::fputs("with-gpu-ticket 1\narrival 5\npid 999999\nneeded 1\nmode exclusive\nusable GPU-a\ncommand x\nend\n", file);
  std::fclose(file);
  TicketQueue reader(dir.path());
  EXPECT_TRUE(reader.read({}).tickets.empty());
  EXPECT_FALSE(std::filesystem::exists(dead));
}

TEST(TicketQueue, WithoutInotifyAWatchedTicketsEndOrChangeIsSeen) {
  test::TempDir dir;
  TicketQueue older(dir.path());
  older.use_gpus(kUuids);
  Ticket first = ticket(1, static_cast<int>(getpid()), {0});
  ASSERT_TRUE(older.enter(first));
  TicketQueue younger(dir.path());
  younger.use_gpus(kUuids);
  ASSERT_EQ(younger.read({}).tickets.size(), 1u);
  std::set<std::string> watched = {first.name};
  EXPECT_FALSE(younger.changed_since_read(watched));
  EXPECT_FALSE(younger.changed_since_read(watched));
  first.usable = {0, 1, 2};  // at once: a rewrite within one tick of the clock is seen too
  ASSERT_TRUE(older.enter(first));
  EXPECT_TRUE(younger.changed_since_read(watched));
  younger.read({}).tickets;
  EXPECT_FALSE(younger.changed_since_read(watched));
  older.leave();
  EXPECT_TRUE(younger.changed_since_read(watched));
}

}  // namespace
}  // namespace wg
