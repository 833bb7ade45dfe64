#include "core/queue.hpp"

#include <algorithm>
#include <cstdio>

namespace wg {
namespace {

bool is_claim_reason(Filter filter) { return filter == Filter::claimed || filter == Filter::shared; }

// What a GPU's end of claims cannot change: the model, the allocation, access, the lock
// file, locality, and readings the driver never gives.
bool is_static_reason(Filter filter) {
  switch (filter) {
    case Filter::unusable:
    case Filter::not_allocated:
    case Filter::no_access:
    case Filter::gpu_type:
    case Filter::numa:
    case Filter::numa_unknown:
    case Filter::lock_file:
    case Filter::memory_unknown:
    case Filter::util_unknown:
    case Filter::temp_unknown:
    case Filter::power_unknown:
      return true;
    default:
      return false;
  }
}

bool usable_once_free(const GpuVerdict& verdict, bool settling) {
  bool claimed = settling || held_by_claim(verdict);
  return std::all_of(verdict.reasons.begin(), verdict.reasons.end(), [claimed](const Reason& reason) {
    if (reason.filter == Filter::queued || is_claim_reason(reason.filter)) return true;
    return claimed && !is_static_reason(reason.filter);
  });
}

bool arrived_before(const std::string& a, const std::string& b) { return a < b; }

}  // namespace

std::string ticket_name(std::int64_t arrival_ns, int pid) {
  char name[64];
  std::snprintf(name, sizeof name, "t-%019lld-%010d", static_cast<long long>(arrival_ns), pid);
  return name;
}

bool is_ticket_name(const std::string& name) {
  return name.size() == 32 && name.rfind("t-", 0) == 0 && name[21] == '-' &&
         name.find_first_not_of("0123456789", 2) == 21 && name.find_first_not_of("0123456789", 22) == std::string::npos;
}

std::map<unsigned, QueueHold> held_for_older(const std::vector<Ticket>& older) {
  std::map<unsigned, QueueHold> held;
  for (const auto& ticket : older) {
    for (unsigned index : ticket.usable) held.emplace(index, QueueHold{ticket.pid, ticket.user, ticket.place});
  }
  return held;
}

std::vector<Ticket> tickets_before(const std::vector<Ticket>& line, const std::optional<std::string>& own) {
  std::vector<Ticket> before;
  for (const auto& ticket : line) {
    if (own && !arrived_before(ticket.name, *own)) break;
    before.push_back(ticket);
  }
  return before;
}

std::vector<unsigned> usable_for_ticket(const Decision& decision, const SelectionOptions& options,
                                        const std::set<unsigned>& settling) {
  std::vector<unsigned> usable;
  for (const auto& verdict : decision.verdicts) {
    if (options.manual && std::find(options.manual->begin(), options.manual->end(), verdict.index) ==
                              options.manual->end()) {
      continue;
    }
    if (usable_once_free(verdict, settling.count(verdict.index) > 0)) usable.push_back(verdict.index);
  }
  return usable;
}

std::set<std::string> tickets_holding(const std::vector<Ticket>& older, const std::vector<unsigned>& usable) {
  std::set<std::string> holding;
  for (unsigned index : usable) {
    for (auto ticket = older.rbegin(); ticket != older.rend(); ++ticket) {
      if (std::binary_search(ticket->usable.begin(), ticket->usable.end(), index)) {
        holding.insert(ticket->name);
        break;
      }
    }
  }
  return holding;
}

QueuePlace place_in_line(const Line& line, const Ticket& own, const Decision& decision) {
  QueuePlace where;
  where.usable = own.usable;
  auto older = tickets_before(line.tickets, own.name);
  where.place = std::max<unsigned>(line.older, static_cast<unsigned>(older.size())) + 1;
  where.waiters = std::max<unsigned>(line.total, where.place);
  auto held = held_for_older(older);
  for (unsigned index : own.usable) {
    if (held.count(index)) continue;
    where.region.push_back(index);
    bool free = index < decision.verdicts.size() && decision.verdicts[index].reasons.empty();
    if (free && !decision.ok) where.reserved.push_back(index);
  }
  return where;
}

std::string ordinal(unsigned number) {
  const char* suffix = "th";
  if (number % 100 < 11 || number % 100 > 13) {
    if (number % 10 == 1) suffix = "st";
    if (number % 10 == 2) suffix = "nd";
    if (number % 10 == 3) suffix = "rd";
  }
  return std::to_string(number) + suffix;
}

}  // namespace wg
