#include "core/queue.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "os/fd.hpp"
#include "os/wait_queue.hpp"
#include "unit/machine_builder.hpp"
#include "unit/temp_dir.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;

Ticket ticket(std::int64_t arrival, int pid, std::vector<unsigned> usable, unsigned needed = 1) {
  Ticket made;
  made.arrival_ns = arrival;
  made.pid = pid;
  made.name = ticket_name(arrival, pid);
  made.user = "alice";
  made.usable = std::move(usable);
  made.needed = needed;
  return made;
}

TEST(Queue, TicketNamesSortAsArrivalsDo) {
  EXPECT_EQ(ticket_name(5, 42), "t-0000000000000000005-0000000042");
  EXPECT_LT(ticket_name(999, 1), ticket_name(1000, 1));
  EXPECT_LT(ticket_name(1000, 7), ticket_name(1000, 8));
  EXPECT_TRUE(is_ticket_name(ticket_name(1795971409705466774, 29622)));
  EXPECT_FALSE(is_ticket_name(".new-" + ticket_name(1, 1)));
  EXPECT_FALSE(is_ticket_name("t-000000000000000000x-0000000042"));
  EXPECT_FALSE(is_ticket_name("gpu-0.lock"));
}

TEST(Queue, EachGpuIsHeldForTheOldestWaiterThatCanUseIt) {
  std::vector<Ticket> older = {ticket(1, 10, {0, 1}), ticket(2, 20, {1, 2})};
  older[1].place = 2;
  auto held = held_for_older(older);
  ASSERT_EQ(held.size(), 3u);
  EXPECT_EQ(held[0].pid, 10);
  EXPECT_EQ(held[1].pid, 10);
  EXPECT_EQ(held[1].place, 1u);
  EXPECT_EQ(held[2].pid, 20);
  EXPECT_EQ(held[2].place, 2u);
  EXPECT_EQ(held[2].user, "alice");
}

TEST(Queue, OnlyTicketsThatArrivedEarlierCount) {
  std::vector<Ticket> line = {ticket(1, 10, {0}), ticket(2, 20, {0}), ticket(3, 30, {0})};
  EXPECT_EQ(tickets_before(line, ticket_name(2, 20)).size(), 1u);
  EXPECT_EQ(tickets_before(line, std::nullopt).size(), 3u);  // a launch without a ticket is the youngest
}

TEST(Queue, AClaimedGpuIsUsableOnceFreeUnlessAFilterTheClaimCannotChangeRejectsIt) {
  Machine machine = machine_of({GpuBuilder(0).claimed_by(7).used_mib(40000),
                                GpuBuilder(1).claimed_by(8).name("NVIDIA H100"),
                                GpuBuilder(2).used_mib(40000), GpuBuilder(3)});
  SelectionOptions options;
  options.gpu_type = "A100";
  options.type_fallback = TypeFallback::strict;
  Decision decision = select_gpus(machine, options);
  // GPU 0: its memory is its holder's. GPU 1: the wrong model. GPU 2: full, and nobody's
  // claim will free it. GPU 3: free and fine.
  EXPECT_EQ(usable_for_ticket(decision, options, {}), (std::vector<unsigned>{0, 3}));
  // Released a moment ago, its readings may still be the holder's.
  EXPECT_EQ(usable_for_ticket(decision, options, {2}), (std::vector<unsigned>{0, 2, 3}));
}

TEST(Queue, ListedGpusAloneAreUsableWithGpu) {
  Machine machine = machine_of({GpuBuilder(0), GpuBuilder(1).claimed_by(7), GpuBuilder(2)});
  SelectionOptions options;
  options.manual = std::vector<unsigned>{1};
  Decision decision = select_gpus(machine, options);
  EXPECT_EQ(usable_for_ticket(decision, options, {}), (std::vector<unsigned>{1}));
}

TEST(Queue, AWaiterIsToldItsPlaceAndTheFreeGpusKeptForIt) {
  Machine machine = machine_of({GpuBuilder(0), GpuBuilder(1).claimed_by(7),
                                GpuBuilder(2).claimed_by(8), GpuBuilder(3)});
  std::vector<Ticket> line = {ticket(1, 10, {3}), ticket(2, 20, {0, 1, 2, 3}, 2), ticket(3, 30, {0, 1, 2, 3})};
  SelectionOptions options;
  options.min_gpus = options.max_gpus = 2;
  options.queued = held_for_older(tickets_before(line, line[1].name));
  Decision decision = select_gpus(machine, options);
  ASSERT_FALSE(decision.ok);
  QueuePlace place = place_in_line(Line{line, 1, 3}, line[1], decision);
  EXPECT_EQ(place.place, 2u);
  EXPECT_EQ(place.waiters, 3u);
  EXPECT_EQ(place.region, (std::vector<unsigned>{0, 1, 2}));  // GPU 3 is the older waiter's
  EXPECT_EQ(place.reserved, (std::vector<unsigned>{0}));
  // GPU 3 is also the first waiter's, but while the second can use it, the second's end
  // is what could free it for the third.
  EXPECT_EQ(tickets_holding(tickets_before(line, line[2].name), line[2].usable), (std::set<std::string>{line[1].name}));
  EXPECT_EQ(tickets_holding(tickets_before(line, line[1].name), line[1].usable), (std::set<std::string>{line[0].name}));
}

TEST(Queue, OrdinalsReadAsPeopleSayThem) {
  EXPECT_EQ(ordinal(1), "1st");
  EXPECT_EQ(ordinal(2), "2nd");
  EXPECT_EQ(ordinal(3), "3rd");
  EXPECT_EQ(ordinal(4), "4th");
  EXPECT_EQ(ordinal(11), "11th");
  EXPECT_EQ(ordinal(12), "12th");
  EXPECT_EQ(ordinal(13), "13th");
  EXPECT_EQ(ordinal(21), "21st");
  EXPECT_EQ(ordinal(112), "112th");
}

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
  first.usable = {0, 1, 2};
  usleep(20000);  // a later modification time on filesystems with coarse clocks
  ASSERT_TRUE(older.enter(first));
  EXPECT_TRUE(younger.changed_since_read(watched));
  younger.read({}).tickets;
  EXPECT_FALSE(younger.changed_since_read(watched));
  older.leave();
  EXPECT_TRUE(younger.changed_since_read(watched));
}

}  // namespace
}  // namespace wg
