#include "core/queue.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"
#include "support/tickets.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;
using test::ticket;

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

}  // namespace
}  // namespace wg
