#pragma once
// The waiting line: every launch that waits holds a ticket in the lock directory saying
// when it arrived, what it asks for and which GPUs it could use. A younger launch may use
// a GPU only when no older waiter can use it, so GPUs go to waiters in arrival order and
// a waiter that needs several keeps the ones released for it until it has enough.
// Pure: tickets in, holds and places out; the files are os/wait_queue's business.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/gpu.hpp"
#include "core/result.hpp"
#include "core/selector.hpp"

namespace wg {

// A waiting launch, as its ticket says.
struct Ticket {
  std::string name;             // "t-<arrival ns>-<pid>": names sort in arrival order
  std::int64_t arrival_ns = 0;  // the wall clock when the launch started
  int pid = 0;
  std::string user;             // the ticket file's owner: the ticket cannot lie about it
  std::string command;
  unsigned needed = 1;          // GPUs it needs at least
  ClaimMode mode = ClaimMode::exclusive;
  std::vector<unsigned> usable; // NVML indices it could use once free, ascending
  unsigned place = 1;           // its place in line when read (1 for the oldest)
  bool stopped = false;         // its process is stopped (Ctrl-Z, SIGSTOP): it keeps nothing meanwhile
};

// What a launch needs to read of the line, oldest first: the tickets that decide which of
// the GPUs it could use are kept from it, not every ticket (with hundreds waiting, each
// look would read them all).
struct LineQuery {
  std::optional<std::string> before;             // this launch's ticket: read only older ones
  std::optional<std::vector<unsigned>> covering; // stop once these GPUs are all kept; none: read all
  // From the oldest (a launch without a ticket: the oldest holder of a GPU is named) or
  // from the newest older one (a waiter: the youngest older holder is the one whose end
  // may free a GPU for it, so the one to watch).
  enum class From { oldest, newest } from = From::oldest;
};

// The part of the line read, and how long the line is.
struct Line {
  std::vector<Ticket> tickets;  // live tickets read, oldest first
  unsigned older = 0;           // tickets before the query's `before` (all tickets without one), read or not
  unsigned total = 0;           // tickets in line
};

// The ticket name for a launch: zero-padded so that names sort as arrivals do.
std::string ticket_name(std::int64_t arrival_ns, int pid);

// True when `name` is a ticket's (other files in the queue directory are ignored).
bool is_ticket_name(const std::string& name);

// The GPUs that waiters of `older` (oldest first) can use, each with the oldest of them read:
// a launch that arrived after all of them may not take those GPUs.
std::map<unsigned, QueueHold> held_for_older(const std::vector<Ticket>& older);

// The tickets of `line` (oldest first) that arrived before `own` (all of them when this
// launch has no ticket yet).
std::vector<Ticket> tickets_before(const std::vector<Ticket>& line, const std::optional<std::string>& own);

// The GPUs a waiter could use once free, for its ticket. A GPU free now must pass every
// filter; one claimed now (or released within the last moment, `settling`) only those a
// claim's end cannot change: its readings are the holder's. With --gpu, only those listed.
std::vector<unsigned> usable_for_ticket(const Decision& decision, const SelectionOptions& options,
                                        const std::set<unsigned>& settling);

// Where a waiter stands: its place (1-based among live tickets), how many GPUs it may
// take once free (those no older waiter can use), and the free ones kept for it.
struct QueuePlace {
  unsigned place = 1;
  unsigned waiters = 1;
  std::vector<unsigned> usable;    // the GPUs its ticket says it can use
  std::vector<unsigned> region;    // of them, those no older waiter can use
  std::vector<unsigned> reserved;  // of them, the free ones, kept while it needs more
};

// The tickets of `older` whose end or change may let a younger launch that can use
// `usable` go ahead: for each GPU, the youngest of them that can use it (while an older one
// also can, the GPU stays kept).
std::set<std::string> tickets_holding(const std::vector<Ticket>& older, const std::vector<unsigned>& usable);

QueuePlace place_in_line(const Line& line, const Ticket& own, const Decision& decision);

// "2nd", "11th", "23rd".
std::string ordinal(unsigned number);

// The tickets in a directory: read, written, watched. Real in the lock directory, absent
// in tests of the flow that do not need one.
class WaitQueue {
 public:
  virtual ~WaitQueue() = default;
  // The GPUs as this process sees them, by NVML index: tickets name GPUs by UUID (another
  // container may number them otherwise), read and written through this.
  virtual void use_gpus(const std::vector<std::string>& uuids) = 0;
  // The live tickets `query` asks for; dead ones met on the way (their lock free) are
  // removed where this user may remove them and never returned.
  virtual Line read(const LineQuery& query) = 0;
  // Takes this launch's ticket, or rewrites it when what it says changed.
  virtual Result<Ok> enter(const Ticket& ticket) = 0;
  // Removes this launch's ticket (also done on destruction).
  virtual void leave() = 0;
  // The name of this launch's ticket, once taken.
  virtual std::optional<std::string> own() const = 0;
  // Without inotify: true when a ticket of `watched` ended or changed since the last read.
  virtual bool changed_since_read(const std::set<std::string>& watched) = 0;
};

}  // namespace wg
