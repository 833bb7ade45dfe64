#include "os/lock_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "os/lock_file.hpp"
#include "os/proc_info.hpp"
#include "os/safe_directory.hpp"

namespace wg {
namespace {

// How long one report may spend looking for the process that really holds a lock.
constexpr std::chrono::milliseconds kHolderSearch{200};

Error lock_dir_error(std::string message) { return Error{ErrorKind::lock_dir, std::move(message), {}}; }

std::string octal_mode(const struct stat& info) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", unsigned(info.st_mode & 07777));
  return text;
}

// A held claim is one descriptor per GPU, writable where the file allows: its close,
// however the holder ends, is what waiters see (IN_CLOSE_WRITE).
class FlockClaims : public HeldClaims {
 public:
  FlockClaims(std::vector<UniqueFd> fds, std::vector<int> inherited)
      : fds_(std::move(fds)), inherited_(std::move(inherited)) {}
  // The claim must outlive with-gpu: the command inherits the descriptors.
  void keep_across_exec() override {
    for (const auto& fd : fds_) fcntl(fd.get(), F_SETFD, 0);
  }
  std::string descriptors() const override {
    std::string list;
    auto add = [&list](int fd) {
      if (!list.empty()) list += ',';
      list += std::to_string(fd);
    };
    for (int fd : inherited_) add(fd);
    for (const auto& fd : fds_) add(fd.get());
    return list;
  }

 private:
  std::vector<UniqueFd> fds_;
  std::vector<int> inherited_;
};

// Our pid, for people reading the directory (/proc/locks is the truth). A fixed-width
// line overwrites the last holder's in place: changing a file's size costs a journal
// transaction (~0.7 ms on ext4), a third of a launch.
void write_pid(int fd) {
  char text[16];
  int length = std::snprintf(text, sizeof text, "%10d\n", static_cast<int>(getpid()));
  struct stat info {};
  if (fstat(fd, &info) == 0 && info.st_size > length) {
    [[maybe_unused]] int truncated = ftruncate(fd, length);
  }
  [[maybe_unused]] auto written = pwrite(fd, text, static_cast<std::size_t>(length), 0);
}

std::map<FileKey, std::vector<ClaimHolder>> read_proc_locks() {
  std::istringstream text(read_small_file("/proc/locks").value_or(""));
  return parse_proc_locks(text);
}

// A holder /proc/locks does not list (it hides those of processes in other pid
// namespaces) still makes flock fail: try, and let go at once.
std::optional<ClaimHolder> unseen_holder(int fd) {
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
    flock(fd, LOCK_UN);
    return std::nullopt;
  }
  bool shared = flock(fd, LOCK_SH | LOCK_NB) == 0;
  if (shared) flock(fd, LOCK_UN);
  return ClaimHolder{0, shared ? ClaimMode::shared : ClaimMode::exclusive, {}, {}};
}

std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// A GPU without a lock file in root's directory: only root may make one.
LockProblem missing_in_hardened_dir(const std::string& path) {
  return LockProblem{LockFileProblem::cannot_create, path, FileType::regular, "root", 0};
}

int flock_operation(ClaimMode mode) { return (mode == ClaimMode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB; }

Error open_error(const std::string& path, int error) {
  if (error == EMFILE || error == ENFILE) {
    rlimit limit {};
    getrlimit(RLIMIT_NOFILE, &limit);
    return lock_dir_error("cannot open lock file " + path + ": too many open files (the limit is " +
                          std::to_string(limit.rlim_cur) + ", see `ulimit -n`); with-gpu needs a few for itself and "
                          "the command keeps one per claimed GPU: raise the limit with `ulimit -n`");
  }
  return lock_dir_error("cannot open lock file " + path + ": " + std::strerror(error));
}

// Why the directory at `path` cannot hold this user's claims; empty when it can. A
// missing directory is fine: it is created on first use.
std::optional<std::string> directory_problem(const std::string& path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) {
    if (errno != ENOENT) return "cannot use lock directory " + path + ": " + std::strerror(errno);
    // Only the last component is made on first use: its parent must be there already.
    std::string parent = path.substr(0, path.find_last_of('/'));
    struct stat above {};
    if (stat(parent.empty() ? "/" : parent.c_str(), &above) == 0 && S_ISDIR(above.st_mode)) return std::nullopt;
    return "cannot create lock directory " + path + ": " + parent + " does not exist; choose another with "
           "--lock-dir or WITH_GPU_LOCK_DIR";
  }
  if (S_ISLNK(info.st_mode)) return symlink_refused(path);
  if (!S_ISDIR(info.st_mode)) return not_a_directory(path);
  if (access(path.c_str(), R_OK | X_OK) != 0) {
    return "cannot open lock directory " + path + " (owner " + user_name(info.st_uid) + ", mode " + octal_mode(info) +
           "): " + std::strerror(errno) + "; choose another with --lock-dir, or have root run `with-gpu --init-lock-dir`";
  }
  if (!is_hardened(info) && access(path.c_str(), W_OK) != 0) {
    return "lock directory " + path + " belongs to " + user_name(info.st_uid) + " (mode " + octal_mode(info) +
           ") and you cannot create lock files in it; ask " + user_name(info.st_uid) +
           " or root to remove it, choose another with --lock-dir, or have root run `with-gpu --init-lock-dir` for a "
           "hardened one";
  }
  return std::nullopt;
}

// A lock file in root's directory: root-owned and 0666. Anything else found under its
// name (another owner, a link, not a regular file) was put there before the directory
// was hardened and is replaced; a claim held through a replaced file is no longer seen.
Result<bool> make_root_lock_file(int dir, const std::string& name, const std::string& path) {
  struct stat info {};
  bool replaced = false;
  if (fstatat(dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
      (!S_ISREG(info.st_mode) || info.st_uid != 0 || info.st_nlink != 1)) {
    if (unlinkat(dir, name.c_str(), S_ISDIR(info.st_mode) ? AT_REMOVEDIR : 0) != 0) {
      return lock_dir_error("cannot replace " + path + ": " + std::strerror(errno) + "; remove it and run again");
    }
    replaced = true;
  }
  UniqueFd fd(openat(dir, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666));
  if (!fd.valid()) return lock_dir_error("cannot create " + path + ": " + std::strerror(errno));
  if (fchown(fd.get(), 0, 0) != 0 || fchmod(fd.get(), 0666) != 0) {
    return lock_dir_error("cannot make " + path + " root's with mode 0666: " + std::strerror(errno));
  }
  return replaced;
}

// The waiting line's directory in root's directory: root's, mode 1777 like /tmp, so that
// every user may queue and none may remove another's ticket. Something else under its
// name is replaced; a directory of another user's is left for root to look at.
Result<Ok> make_root_queue_dir(int dir, const std::string& path) {
  const char* name = "queue";
  struct stat info {};
  if (fstatat(dir, name, &info, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(info.st_mode) && info.st_uid != 0) {
      return lock_dir_error(path + "/queue belongs to " + user_name(info.st_uid) + "; remove it and run again");
    }
    if (!S_ISDIR(info.st_mode) && unlinkat(dir, name, 0) != 0) {
      return lock_dir_error("cannot replace " + path + "/queue: " + std::strerror(errno) + "; remove it and run again");
    }
  }
  if (mkdirat(dir, name, 0700) != 0 && errno != EEXIST) {
    return lock_dir_error("cannot create " + path + "/queue: " + std::strerror(errno));
  }
  UniqueFd queue(openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!queue.valid() || fchown(queue.get(), 0, 0) != 0 || fchmod(queue.get(), 01777) != 0) {
    return lock_dir_error("cannot make " + path + "/queue root's with mode 1777: " + std::strerror(errno));
  }
  return Ok{};
}

}  // namespace

bool is_hardened(const struct stat& info) {
  return S_ISDIR(info.st_mode) && info.st_uid == 0 && (info.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

std::string default_lock_dir(const std::string& hardened, const std::string& shared) {
  struct stat info {};
  if (lstat(hardened.c_str(), &info) == 0 && is_hardened(info)) return hardened;
  return shared;
}

std::size_t claims_held_in(const std::string& path, const std::vector<std::string>& uuids) {
  auto opened = open_safe_directory(path, CreateLast::no, 0);
  if (!opened) return 0;
  std::size_t held = 0;
  for (const auto& uuid : uuids) {
    std::string name = LockDir::lock_name(uuid);
    OpenedLockFile file = open_lock_file(opened->fd.get(), name, path + "/" + name, Access::read_only);
    if (file.fd.valid() && flock(file.fd.get(), LOCK_EX | LOCK_NB) != 0) ++held;
  }
  return held;
}

Result<std::string> init_hardened_lock_dir(const std::string& given, const std::vector<std::string>& uuids) {
  std::string path = without_trailing_slashes(given);
  if (geteuid() != 0) {
    return lock_dir_error("--init-lock-dir makes a directory that only root can change: run it as root "
                          "(sudo with-gpu --init-lock-dir)");
  }
  if (path == "/") return lock_dir_error("--init-lock-dir: '/' cannot be the claims directory");
  if (path == kHardenedLockDir) {
    // Once it exists, launches use it instead of /tmp/with-gpu and no longer see claims there.
    if (std::size_t held = claims_held_in(kSharedLockDir, uuids); held > 0) {
      return lock_dir_error("--init-lock-dir: " + std::to_string(held) + " GPU" + (held == 1 ? " is" : "s are") +
                            " claimed through " + kSharedLockDir + " now, and launches after it would no longer see "
                            "those claims; run it when they have ended (at boot, as with-gpu-lock-dir.service does)");
    }
  }
  auto opened = open_safe_directory(path, CreateLast::yes, 0755);
  if (!opened) return opened.error();
  UniqueFd dir = std::move(opened->fd);
  // Never take over a directory of someone else's: it is theirs, and so is what is in it.
  if (!opened->created && opened->info.st_uid != 0) {
    return lock_dir_error("--init-lock-dir: " + path + " exists and belongs to " + user_name(opened->info.st_uid) +
                          "; remove it first or choose another path");
  }
  if (fchown(dir.get(), 0, 0) != 0 || fchmod(dir.get(), 0755) != 0) {
    return lock_dir_error("cannot make " + path + " root's with mode 0755: " + std::strerror(errno));
  }
  std::size_t replaced = 0;
  for (const auto& uuid : uuids) {
    std::string name = LockDir::lock_name(uuid);
    auto made = make_root_lock_file(dir.get(), name, path + "/" + name);
    if (!made) return made.error();
    replaced += *made ? 1 : 0;
  }
  if (auto queue = make_root_queue_dir(dir.get(), path); !queue) return queue.error();
  std::string report = "with-gpu: lock directory " + path + " is ready: owned by root, mode 0755, " +
                       std::to_string(uuids.size()) + " lock file" + (uuids.size() == 1 ? "" : "s") +
                       " (root's, mode 0666); users can claim GPUs but cannot delete, replace or plant files; "
                       "queue/ (mode 1777) holds the waiting line\n";
  if (replaced > 0) {
    report += "with-gpu: replaced " + std::to_string(replaced) + " lock file" + (replaced == 1 ? "" : "s") +
              " that root did not own\n";
  }
  return report;
}

LockDir::LockDir(std::string path, std::optional<std::string> inherited_claims)
    : path_(without_trailing_slashes(std::move(path))), inherited_claims_(std::move(inherited_claims)) {}

std::string LockDir::lock_name(const std::string& uuid) {
  std::string id = uuid.rfind("GPU-", 0) == 0 ? uuid.substr(4) : uuid;
  for (char& c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
  }
  return "gpu-" + id + ".lock";
}

std::string LockDir::lock_path(const std::string& uuid) const {
  return (path_ == "/" ? "" : path_) + "/" + lock_name(uuid);
}

ClaimsPlace LockDir::place() const {
  struct stat info {};
  bool hardened = lstat(path_.c_str(), &info) == 0 && is_hardened(info);
  return {path_, hardened, directory_problem(path_)};
}

Result<Ok> LockDir::prepare() {
  struct stat now {};
  if (dir_.valid() && lstat(path_.c_str(), &now) == 0 && now.st_dev == dir_info_.st_dev &&
      now.st_ino == dir_info_.st_ino) {
    return Ok{};
  }
  dir_.reset();  // removed or replaced since: open what is there now
  return open_directory();
}

Result<Ok> LockDir::open_directory() {
  auto opened = open_safe_directory(path_, CreateLast::yes, 01777);
  if (!opened) {
    if (auto problem = directory_problem(path_)) return lock_dir_error(*problem);
    return opened.error();
  }
  struct stat& info = opened->info;
  // Modes change through the descriptor, never by name, and only on a directory this
  // call made (every step to it taken through a descriptor, so a swapped path cannot
  // lead elsewhere) that is this user's: opened up to everyone, like /tmp.
  if (opened->created && info.st_uid == geteuid() && (info.st_mode & 07777) != 01777) {
    if (fchmod(opened->fd.get(), 01777) != 0) {
      return lock_dir_error("cannot make lock directory " + path_ + " usable by every user (mode 1777): " +
                            std::strerror(errno) + "; choose another with --lock-dir");
    }
    fstat(opened->fd.get(), &info);
  }
  dir_ = std::move(opened->fd);
  dir_info_ = info;
  return Ok{};
}

Error LockDir::cannot_create(int error) const {
  if (auto problem = directory_problem(path_)) return lock_dir_error(*problem);
  return lock_dir_error("cannot create lock files in " + path_ + ": " + std::strerror(error) +
                        "; choose another directory with --lock-dir");
}

const std::map<FileKey, LockDir::Proven>& LockDir::proven() {
  if (proven_) return *proven_;
  proven_.emplace();
  if (!inherited_claims_) return *proven_;
  std::istringstream list(*inherited_claims_);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (item.empty() || item.size() > 9 || item.find_first_not_of("0123456789") != std::string::npos) continue;
    int fd = std::stoi(item);
    struct stat info {};
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) continue;
    // Named is not enough: the descriptor must hold the lock itself (a stray one that a
    // shell opened on a lock file, say, holds nothing).
    if (auto mode = flock_held_through(fd, key_of(info))) proven_->emplace(key_of(info), Proven{fd, *mode});
  }
  return *proven_;
}

int LockDir::inherited_fd(const std::string& uuid, ClaimMode mode) {
  if (proven().empty()) return -1;  // spare the launch path a stat
  auto key = key_at(dir_.get(), lock_name(uuid));
  if (!key) return -1;
  auto found = proven_->find(*key);
  // An inherited shared claim is no exclusive one: flock would then find it held.
  if (found == proven_->end() || (mode == ClaimMode::exclusive && found->second.mode == ClaimMode::shared)) return -1;
  return found->second.fd;
}

LockDir::Taking LockDir::failed(Error error) {
  Taking result;
  result.error = std::move(error);
  return result;
}

LockDir::Taking LockDir::take(const std::string& uuid, ClaimMode mode, Access access) {
  std::string name = lock_name(uuid);
  std::string path = lock_path(uuid);
  Taking result;
  for (int attempt = 0; attempt < 8; ++attempt) {
    OpenedLockFile file = open_lock_file(dir_.get(), name, path, access);
    if (file.missing) {
      if (is_hardened(dir_info_) && geteuid() != 0) {
        result.outcome = Take::problem;
        result.problem = missing_in_hardened_dir(path);
        return result;
      }
      int error = create_lock_file(dir_.get(), name);
      if (error == ENOENT) {  // the directory was removed: use the one at the path now
        dir_.reset();
        if (auto ready = open_directory(); !ready) return failed(ready.error());
      } else if (error != 0) {
        return failed(cannot_create(error));
      }
      continue;
    }
    if (file.problem) {
      result.outcome = Take::problem;
      result.problem = std::move(file.problem);
      return result;
    }
    if (!file.fd.valid()) return failed(open_error(path, file.error));
    if (flock(file.fd.get(), flock_operation(mode)) != 0) {
      // NFS emulates flock with byte-range locks, and an exclusive one needs a writable file.
      if (errno == EBADF && access == Access::read_only) return take(uuid, mode, Access::read_write);
      if (errno != EWOULDBLOCK) return failed(lock_dir_error("cannot lock " + path + ": " + std::strerror(errno)));
      result.outcome = Take::busy;
      result.fd = std::move(file.fd);
      result.key = file.key;
      return result;
    }
    // The path must still name the file locked: a lock on a file deleted or replaced
    // meanwhile keeps nobody out. Closing the descriptor drops the lock; look again.
    if (key_at(dir_.get(), name) == file.key) {
      result.outcome = Take::taken;
      result.fd = std::move(file.fd);
      result.key = file.key;
      return result;
    }
  }
  return failed(lock_dir_error("lock file " + path + " keeps being replaced; someone is tampering with " + path_ +
                                ": choose another with --lock-dir"));
}

bool LockDir::held_through_deleted_file(const std::string& uuid, ClaimMode mode) {
  auto found = tracked_.find(uuid);
  if (found == tracked_.end()) return false;
  if (key_at(dir_.get(), lock_name(uuid)) == found->second.key) return false;  // still there: flock will tell
  if (flock(found->second.fd.get(), flock_operation(mode)) == 0) {
    flock(found->second.fd.get(), LOCK_UN);
    tracked_.erase(found);  // its holders are gone: the file at the path is the claim now
    return false;
  }
  return true;
}

Result<ClaimAttempt> LockDir::claim(const std::vector<const Gpu*>& gpus, ClaimMode mode) {
  if (auto ready = prepare(); !ready) return ready.error();
  std::vector<int> inherited;
  std::vector<const Gpu*> taking;
  std::vector<Taking> probes;
  // Read-only descriptors first: closing one wakes no waiter, so a failed attempt is silent.
  for (const Gpu* gpu : gpus) {
    if (int fd = inherited_fd(gpu->uuid, mode); fd >= 0) {
      inherited.push_back(fd);  // already ours: the ancestor's descriptor stays open in the command
      continue;
    }
    if (held_through_deleted_file(gpu->uuid, mode)) return ClaimAttempt{nullptr, gpu->index};
    Taking probe = take(gpu->uuid, mode, Access::read_only);
    switch (probe.outcome) {
      case Take::failed: return probe.error;
      case Take::problem: return ClaimAttempt{nullptr, std::nullopt, gpu->index, std::move(probe.problem)};
      case Take::busy: return ClaimAttempt{nullptr, gpu->index};
      case Take::taken: break;
    }
    taking.push_back(gpu);
    probes.push_back(std::move(probe));
  }
  // Then one writable descriptor per GPU takes over from each read-only one. The
  // directory's descriptor is let go first, so that a tight `ulimit -n` needs room for
  // one descriptor per GPU and one more, no more than the command will hold.
  dir_.reset();
  std::vector<UniqueFd> held;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    auto handed = hand_over(lock_path(taking[i]->uuid), probes[i], mode);
    if (!handed) return handed.error();
    if (!*handed) return ClaimAttempt{nullptr, taking[i]->index};  // another launch came in between
    held.push_back(std::move(**handed));
  }
  return ClaimAttempt{std::make_unique<FlockClaims>(std::move(held), std::move(inherited)), std::nullopt};
}

Result<std::optional<UniqueFd>> LockDir::hand_over(const std::string& path, Taking& probe, ClaimMode mode) {
  // Reopened through the descriptor: the very file locked, whatever the path names now.
  std::string self = "/proc/self/fd/" + std::to_string(probe.fd.get());
  UniqueFd writable(open(self.c_str(), O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!writable.valid()) {
    if (errno == EMFILE || errno == ENFILE) return open_error(path, errno);
    return std::optional<UniqueFd>(std::move(probe.fd));  // not ours to write (another user's 0644 file): waiters poll
  }
  probe.fd.reset();
  struct stat now {};
  if (flock(writable.get(), flock_operation(mode)) != 0 || lstat(path.c_str(), &now) != 0 || key_of(now) != probe.key) {
    return std::optional<UniqueFd>();
  }
  write_pid(writable.get());
  return std::optional<UniqueFd>(std::move(writable));
}

void LockDir::track_claims(const Machine& machine) {
  if (!prepare()) return;
  for (const auto& gpu : machine.gpus) {
    if (!gpu.usable()) continue;
    std::string name = lock_name(gpu.uuid);
    auto now = key_at(dir_.get(), name);
    auto found = tracked_.find(gpu.uuid);
    if (found != tracked_.end()) {
      if (now == found->second.key || held_through_deleted_file(gpu.uuid, ClaimMode::exclusive)) continue;
    }
    OpenedLockFile file = open_lock_file(dir_.get(), name, lock_path(gpu.uuid), Access::read_only);
    if (file.fd.valid()) tracked_[gpu.uuid] = Tracked{std::move(file.fd), file.key};
  }
}

bool LockDir::any_claimable(const std::vector<std::string>& uuids, ClaimMode mode) {
  for (const auto& uuid : uuids) {
    auto found = tracked_.find(uuid);
    if (found == tracked_.end() || flock(found->second.fd.get(), flock_operation(mode)) != 0) continue;
    flock(found->second.fd.get(), LOCK_UN);
    return true;
  }
  return false;
}

bool LockDir::tracks_deleted_claims() const {
  for (const auto& [uuid, tracked] : tracked_) {
    struct stat now {};
    if (lstat(lock_path(uuid).c_str(), &now) != 0 || key_of(now) != tracked.key) return true;
  }
  return false;
}

const std::map<FileKey, std::vector<ClaimHolder>>& LockDir::locks_now() {
  if (!locks_now_) locks_now_ = read_proc_locks();
  return *locks_now_;
}

void LockDir::find_real_holders(const FileKey& key, std::vector<ClaimHolder>& holders,
                                std::chrono::steady_clock::time_point until, bool first_look) {
  std::vector<int> found;
  bool searched = false;
  // Listed twice, alive, and holding nothing: another launch's look at the lock (it takes
  // it for an instant to see whether it is free), not a claim.
  if (!first_look) {
    holders.erase(std::remove_if(holders.begin(), holders.end(), [&](const ClaimHolder& holder) {
                    return holder.pid > 0 && process_holds(holder.pid, key, until) == std::optional<bool>(false);
                  }),
                  holders.end());
  }
  for (auto& holder : holders) {
    // /proc/locks names the process that took the lock; it may have exited since (a
    // daemonized command) and its pid been reused, or live in another pid namespace (0).
    std::optional<bool> holds = holder.pid > 0 ? process_holds(holder.pid, key, until) : std::optional<bool>(false);
    if (holds.value_or(access(("/proc/" + std::to_string(holder.pid)).c_str(), F_OK) == 0)) continue;
    // Released, or passed to another launch, while this report was made (common when many
    // launches come and go): /proc/locks read again says so, without a search of every process.
    if (holder.pid > 0) {
      auto listed = locks_now().find(key);
      if (listed == locks_now().end()) {
        holders.clear();
        return;
      }
      if (first_look) {
        holders = listed->second;
        return find_real_holders(key, holders, until, false);
      }
    }
    if (!searched) found = processes_holding(key, until), searched = true;
    holder.pid = 0;
    for (int pid : found) {
      bool listed = false;
      for (const auto& other : holders) listed = listed || other.pid == pid;
      if (!listed) {
        holder.pid = pid;
        break;
      }
    }
  }
}

void LockDir::read_holders(Machine& machine) {
  auto holders = read_proc_locks();
  locks_now_.reset();
  auto until = std::chrono::steady_clock::now() + kHolderSearch;  // for all of this report
  UniqueFd opened;
  int dir = dir_.get();
  struct stat dir_info = dir_info_;
  if (!dir_.valid()) {  // a report before any claim: look, never create
    if (auto found = open_safe_directory(path_, CreateLast::no, 0)) {
      opened = std::move(found->fd);
      dir_info = found->info;
    }
    dir = opened.get();
  }
  for (auto& gpu : machine.gpus) {
    gpu.claims.clear();
    gpu.lock_problem.reset();
    if (!gpu.usable() || dir < 0) continue;
    std::string name = lock_name(gpu.uuid);
    OpenedLockFile file = open_lock_file(dir, name, lock_path(gpu.uuid), Access::read_only);
    if (file.missing && is_hardened(dir_info) && geteuid() != 0) {
      gpu.lock_problem = missing_in_hardened_dir(lock_path(gpu.uuid));
    }
    if (file.problem) gpu.lock_problem = std::move(file.problem);
    std::vector<std::pair<FileKey, bool>> keys;  // the file at the path, and one deleted while tracked
    if (file.fd.valid()) keys.emplace_back(file.key, false);
    if (auto tracked = tracked_.find(gpu.uuid); tracked != tracked_.end() && tracked->second.key != file.key) {
      keys.emplace_back(tracked->second.key, true);
    }
    if (file.fd.valid() && !holders.count(file.key)) {
      // Taken since /proc/locks was read, or by a process it hides (another pid namespace).
      if (auto unseen = unseen_holder(file.fd.get())) {
        locks_now_ = read_proc_locks();
        auto listed = locks_now_->find(file.key);
        if (listed != locks_now_->end()) {
          holders[file.key] = listed->second;
        } else if ((unseen = unseen_holder(file.fd.get()))) {  // not another launch's look of an instant
          holders[file.key] = {*unseen};
        }
      }
    }
    for (const auto& [key, deleted] : keys) {
      auto found = holders.find(key);
      if (found != holders.end()) add_holders(gpu, key, found->second, deleted, until);
    }
  }
}

void LockDir::add_holders(Gpu& gpu, const FileKey& key, std::vector<ClaimHolder> holders, bool deleted,
                          std::chrono::steady_clock::time_point until) {
  find_real_holders(key, holders, until);
  bool ours = proven().count(key) > 0;
  for (auto& holder : holders) {
    holder.user = process_user(holder.pid);
    holder.command = process_command(holder.pid);
    // Our claim is held by our ancestors (or by us); other sharers of the file are others.
    holder.inherited = ours && is_self_or_ancestor(holder.pid);
    holder.file_deleted = deleted;
    gpu.claims.push_back(std::move(holder));
  }
}

}  // namespace wg
