#pragma once
// Waiting-line tickets for tests of the queue: arrival, pid and usable GPUs, the rest fixed.

#include <cstdint>
#include <vector>

#include "core/queue.hpp"

namespace wg::test {

// A ticket of user "alice" that arrived at `arrival` (ns), for `needed` of `usable`.
inline Ticket ticket(std::int64_t arrival, int pid, std::vector<unsigned> usable, unsigned needed = 1) {
  Ticket made;
  made.arrival_ns = arrival;
  made.pid = pid;
  made.name = ticket_name(arrival, pid);
  made.user = "alice";
  made.usable = std::move(usable);
  made.needed = needed;
  return made;
}

}  // namespace wg::test
