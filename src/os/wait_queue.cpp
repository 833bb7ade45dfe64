#include "os/wait_queue.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "os/proc_info.hpp"

namespace wg {
namespace {

constexpr std::size_t kCommandLimit = 200;
constexpr std::size_t kTicketLimit = 64 * 1024;
constexpr const char* kHeader = "with-gpu-ticket 1";

// The text after "usable " in a ticket: UUIDs, comma-separated.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::istringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

// A decimal field of a ticket, which anyone may have written: false unless it is all
// digits and fits.
template <class Number>
bool parse_number(const std::string& text, Number& value) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

// What a waiter's change to a ticket shows: its time stamps and size (a rewrite within one
// tick of a coarse file system clock still changes the size or the change time).
bool same_version(const struct stat& a, const struct stat& b) {
  return a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec && a.st_size == b.st_size;
}

// A ticket is a few lines; one that lists hundreds of GPUs still fits.
std::string read_all(int fd) {
  std::string text(kTicketLimit, '\0');
  ssize_t length = pread(fd, text.data(), text.size(), 0);
  text.resize(length > 0 ? static_cast<std::size_t>(length) : 0);
  return text;
}

}  // namespace

std::string TicketQueue::ticket_text(const Ticket& ticket) const {
  std::string command = printable(ticket.command);
  if (command.size() > kCommandLimit) command = command.substr(0, kCommandLimit - 3) + "...";
  std::vector<std::string> usable;
  for (unsigned index : ticket.usable) {
    if (index < uuids_.size()) usable.push_back(uuids_[index]);
  }
  std::ostringstream text;
  text << kHeader << "\narrival " << ticket.arrival_ns << "\npid " << ticket.pid << "\nneeded " << ticket.needed
       << "\nmode " << (ticket.mode == ClaimMode::shared ? "shared" : "exclusive") << "\nusable " << join(usable, ",")
       << "\ncommand " << command << "\nend\n";
  return text.str();
}

// The fields of a ticket's text; nothing when it is not whole (read while being rewritten).
// GPUs this process does not see (another container's) are left out.
std::optional<Ticket> TicketQueue::parse_ticket(const std::string& text) const {
  std::istringstream lines(text);
  std::string line;
  if (!std::getline(lines, line) || line != kHeader) return std::nullopt;
  Ticket ticket;
  bool ended = false;
  while (std::getline(lines, line)) {
    auto space = line.find(' ');
    std::string key = line.substr(0, space);
    std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "end") {
      ended = true;
      break;  // a longer text cut by a rewrite may leave old lines after it
    }
    if (key == "arrival" && !parse_number(value, ticket.arrival_ns)) return std::nullopt;
    if (key == "pid" && !parse_number(value, ticket.pid)) return std::nullopt;
    if (key == "needed" && !parse_number(value, ticket.needed)) return std::nullopt;
    if (key == "mode") ticket.mode = value == "shared" ? ClaimMode::shared : ClaimMode::exclusive;
    if (key == "command") ticket.command = printable(value);
    if (key != "usable") continue;
    for (const auto& uuid : split_list(value)) {
      auto found = std::find(uuids_.begin(), uuids_.end(), uuid);
      if (found != uuids_.end()) ticket.usable.push_back(static_cast<unsigned>(found - uuids_.begin()));
    }
  }
  if (!ended) return std::nullopt;
  std::sort(ticket.usable.begin(), ticket.usable.end());
  return ticket;
}

void TicketQueue::use_gpus(const std::vector<std::string>& uuids) { uuids_ = uuids; }

std::string queue_path(const std::string& lock_dir) { return lock_dir + "/queue"; }

TicketQueue::TicketQueue(const std::string& lock_dir) : path_(queue_path(lock_dir)) {}

TicketQueue::~TicketQueue() { leave(); }

bool TicketQueue::open_directory(CreateLast create) {
  struct stat named {}, current {};
  // Removed or replaced since (rm -rf of the lock directory): open what is there now.
  if (dir_.valid() && (lstat(path_.c_str(), &named) != 0 || fstat(dir_.get(), &current) != 0 ||
                       named.st_ino != current.st_ino || named.st_dev != current.st_dev)) {
    dir_.reset();
    watched_.clear();
  }
  if (dir_.valid()) return true;
  auto opened = open_safe_directory(path_, create, 01777);
  if (!opened) return false;
  // Like /tmp: everyone may queue, nobody may remove another user's ticket.
  if (opened->created && opened->info.st_uid == geteuid() && fchmod(opened->fd.get(), 01777) != 0) return false;
  dir_ = std::move(opened->fd);
  return true;
}

const std::string& TicketQueue::owner_name(unsigned uid) {
  auto found = users_.find(uid);
  if (found == users_.end()) found = users_.emplace(uid, user_name(uid)).first;
  return found->second;
}

// A live ticket: its lock is held. One whose lock can be taken is dead: removed (when
// this user may) and skipped.
std::optional<Ticket> TicketQueue::read_ticket(const std::string& name) {
  UniqueFd fd(openat(dir_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat info {};
  if (!fd.valid() || fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  if (flock(fd.get(), LOCK_SH | LOCK_NB) == 0) {
    struct stat now {};
    if (fstatat(dir_.get(), name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_ino == info.st_ino &&
        now.st_dev == info.st_dev) {
      unlinkat(dir_.get(), name.c_str(), 0);
    }
    return std::nullopt;
  }
  std::optional<Ticket> ticket;
  // A ticket read while its owner rewrites it may be torn: read it again.
  for (int attempt = 0; attempt < 3 && !ticket; ++attempt) ticket = parse_ticket(read_all(fd.get()));
  if (!ticket) ticket = Ticket{};  // live but unreadable: in line, holding nothing
  ticket->name = name;
  ticket->user = owner_name(info.st_uid);
  // A stopped waiter cannot take what it keeps: until it runs again, it keeps nothing. The
  // pid is the ticket's word, so it counts only when the process is the ticket owner's
  // (in another pid namespace the number may be someone else's).
  if (process_stopped(ticket->pid) && process_user(ticket->pid) == ticket->user) {
    ticket->stopped = true;
    ticket->usable.clear();
  }
  return ticket;
}

std::vector<std::string> TicketQueue::ticket_names() {
  std::vector<std::string> names;
  int copy = dup(dir_.get());
  if (copy < 0) return names;
  DIR* listing = fdopendir(copy);
  if (!listing) {
    close(copy);
    return names;
  }
  rewinddir(listing);
  while (dirent* entry = readdir(listing)) {
    if (is_ticket_name(entry->d_name)) names.emplace_back(entry->d_name);
  }
  closedir(listing);
  std::sort(names.begin(), names.end());
  return names;
}

Line TicketQueue::read(const LineQuery& query) {
  Line line;
  if (!open_directory(CreateLast::no)) return line;
  std::vector<std::string> names = ticket_names();
  auto end = query.before ? std::lower_bound(names.begin(), names.end(), *query.before) : names.end();
  std::size_t older = static_cast<std::size_t>(end - names.begin());
  std::set<unsigned> left;  // GPUs of `covering` no ticket read keeps yet
  if (query.covering) left.insert(query.covering->begin(), query.covering->end());
  bool newest = query.from == LineQuery::From::newest;
  std::size_t dead = 0;
  for (std::size_t step = 0; step < older && (!query.covering || !left.empty()); ++step) {
    std::size_t at = newest ? older - 1 - step : step;
    auto ticket = read_ticket(names[at]);
    if (!ticket) {
      ++dead;
      continue;
    }
    ticket->place = static_cast<unsigned>(at + 1 - (newest ? 0 : dead));
    for (unsigned index : ticket->usable) left.erase(index);
    line.tickets.push_back(std::move(*ticket));
  }
  if (newest) std::reverse(line.tickets.begin(), line.tickets.end());
  line.older = static_cast<unsigned>(older - dead);
  line.total = static_cast<unsigned>(names.size() - dead);
  return line;
}

Result<Ok> TicketQueue::create_ticket(const Ticket& ticket, const std::string& text) {
  if (!open_directory(CreateLast::yes)) {
    return Error{ErrorKind::lock_dir,
                 "cannot make or open the queue directory " + path_ + " (" + std::strerror(errno) +
                     "); in a hardened lock directory root makes it with `with-gpu --init-lock-dir`",
                 {}};
  }
  // Made under a name nobody reads, locked, then renamed: a ticket is never seen unlocked.
  std::string staging = ".new-" + ticket.name;
  UniqueFd fd(openat(dir_.get(), staging.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    return Error{ErrorKind::lock_dir, "cannot create a ticket in " + path_ + ": " + std::strerror(errno), {}};
  }
  bool made = fchmod(fd.get(), 0644) == 0 && flock(fd.get(), LOCK_EX | LOCK_NB) == 0 &&
              pwrite(fd.get(), text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
              renameat(dir_.get(), staging.c_str(), dir_.get(), ticket.name.c_str()) == 0;
  if (!made) {
    int error = errno;
    unlinkat(dir_.get(), staging.c_str(), 0);
    return Error{ErrorKind::lock_dir, "cannot create a ticket in " + path_ + ": " + std::strerror(error), {}};
  }
  ticket_ = std::move(fd);
  own_ = ticket.name;
  written_ = text;
  return Ok{};
}

// True while our ticket is still in line under its name (nobody removed it, the directory
// was not replaced).
bool TicketQueue::still_named() {
  struct stat mine {}, named {};
  return open_directory(CreateLast::no) && fstat(ticket_.get(), &mine) == 0 &&
         fstatat(dir_.get(), own_->c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 && mine.st_ino == named.st_ino &&
         mine.st_dev == named.st_dev;
}

Result<Ok> TicketQueue::enter(const Ticket& ticket) {
  std::string text = ticket_text(ticket);
  if (own_ && !still_named()) {
    ticket_.reset();  // gone from the line: take the same place again
    own_.reset();
  }
  if (!own_) return create_ticket(ticket, text);
  if (text == written_) return Ok{};
  // Longer text first, then the cut: a reader sees the old ticket, the new one, or a torn
  // one it reads again, never a stale "end" after new fields.
  if (pwrite(ticket_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) return Ok{};
  if (text.size() < written_.size()) {
    if (ftruncate(ticket_.get(), static_cast<off_t>(text.size())) != 0) return Ok{};
  }
  written_ = text;
  return Ok{};
}

void TicketQueue::leave() {
  if (!own_) return;
  struct stat mine {}, named {};
  if (fstat(ticket_.get(), &mine) == 0 && fstatat(dir_.get(), own_->c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
      mine.st_ino == named.st_ino && mine.st_dev == named.st_dev) {
    unlinkat(dir_.get(), own_->c_str(), 0);
  }
  ticket_.reset();
  own_.reset();
  written_.clear();
}

bool TicketQueue::changed_since_read(const std::set<std::string>& watched) {
  if (!dir_.valid()) return false;
  for (auto entry = watched_.begin(); entry != watched_.end();) {
    entry = watched.count(entry->first) ? std::next(entry) : watched_.erase(entry);
  }
  for (const auto& name : watched) {
    auto found = watched_.find(name);
    if (found == watched_.end()) {
      Watched entry{UniqueFd(openat(dir_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)), {}};
      if (!entry.fd.valid() || fstat(entry.fd.get(), &entry.seen) != 0) return true;
      found = watched_.emplace(name, std::move(entry)).first;
    }
    struct stat info {};
    if (fstat(found->second.fd.get(), &info) != 0 || info.st_nlink == 0) return true;
    if (!same_version(info, found->second.seen)) {
      found->second.seen = info;
      return true;
    }
    if (flock(found->second.fd.get(), LOCK_SH | LOCK_NB) == 0) {
      flock(found->second.fd.get(), LOCK_UN);
      return true;
    }
  }
  return false;
}

}  // namespace wg
