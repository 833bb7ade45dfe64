#include "os/lock_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "os/fd.hpp"
#include "os/proc_info.hpp"
#include "os/proc_locks.hpp"

namespace wg {
namespace {

Error lock_dir_error(std::string message) {
  return Error{ErrorKind::lock_dir, std::move(message), {}};
}

// A claim is two descriptors per GPU: the read-only one that holds the flock, and a
// writable one whose only job is to be closed with it. The kernel reports the close
// of a writable descriptor (IN_CLOSE_WRITE), which is what waiters watch; failed claim
// attempts use read-only descriptors only, so they never wake anybody.
class FlockClaims : public HeldClaims {
 public:
  explicit FlockClaims(std::vector<UniqueFd> fds) : fds_(std::move(fds)) {}
  // The claim must outlive with-gpu: the command inherits the descriptors.
  void keep_across_exec() override {
    for (const auto& fd : fds_) fcntl(fd.get(), F_SETFD, 0);
  }

 private:
  std::vector<UniqueFd> fds_;
};

// Opens the lock file read-only, creating it on first use. No O_CREAT on an existing
// file: in a sticky world-writable directory, fs.protected_regular refuses O_CREAT on
// another user's file even when its mode allows us. O_NOFOLLOW: a planted symlink must
// not redirect the open.
UniqueFd open_lock_file(const std::string& path) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT) return UniqueFd(fd);
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0) {
      fchmod(fd, 0666);  // despite the umask: every user's with-gpu must open it
      ::close(fd);
    } else if (errno != EEXIST) {
      return UniqueFd();
    }
  }
  return UniqueFd();
}

// The writable companion of a held claim, with our pid inside for people reading the
// directory (/proc/locks is the truth). Invalid when another user's file refuses
// writing: the claim still holds, waiters then notice its end by polling.
UniqueFd open_release_signal(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.valid()) {
    // A fixed-width line overwrites the last holder's in place: changing a file's size
    // costs a journal transaction (~0.7 ms on ext4), a third of a launch.
    char text[16];
    int length = std::snprintf(text, sizeof text, "%10d\n", static_cast<int>(getpid()));
    struct stat info {};
    if (fstat(fd.get(), &info) == 0 && info.st_size > length) {
      [[maybe_unused]] int truncated = ftruncate(fd.get(), length);
    }
    [[maybe_unused]] auto written = pwrite(fd.get(), text, static_cast<std::size_t>(length), 0);
  }
  return fd;
}

std::optional<FileKey> file_key(const struct stat& info) {
  if (!S_ISREG(info.st_mode)) return std::nullopt;
  return FileKey{major(info.st_dev), minor(info.st_dev), info.st_ino};
}

std::map<FileKey, std::vector<ClaimHolder>> read_proc_locks() {
  std::istringstream text(read_small_file("/proc/locks").value_or(""));
  return parse_proc_locks(text);
}

}  // namespace

std::string LockDir::lock_path(const std::string& uuid) const {
  std::string id = uuid.rfind("GPU-", 0) == 0 ? uuid.substr(4) : uuid;
  for (char& c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
  }
  return path_ + "/gpu-" + id + ".lock";
}

Result<Ok> LockDir::prepare() {
  struct stat info {};
  if (lstat(path_.c_str(), &info) != 0) {
    if (errno != ENOENT) return lock_dir_error("cannot use lock directory " + path_ + ": " + std::strerror(errno));
    if (mkdir(path_.c_str(), 01777) == 0) {
      chmod(path_.c_str(), 01777);  // shared by every user, like /tmp
    } else if (errno != EEXIST) {
      return lock_dir_error("cannot create lock directory " + path_ + ": " + std::strerror(errno) +
                            "; choose another with --lock-dir or WITH_GPU_LOCK_DIR");
    }
    if (lstat(path_.c_str(), &info) != 0) {
      return lock_dir_error("cannot use lock directory " + path_ + ": " + std::strerror(errno));
    }
  }
  if (S_ISLNK(info.st_mode)) {
    return lock_dir_error("lock directory " + path_ + " is a symbolic link, which with-gpu refuses; "
                          "remove it or choose another with --lock-dir");
  }
  if (!S_ISDIR(info.st_mode)) {
    return lock_dir_error("lock directory " + path_ + " is not a directory; remove it or choose another with --lock-dir");
  }
  return Ok{};
}

const std::set<FileKey>& LockDir::inherited() {
  if (inherited_) return *inherited_;
  inherited_.emplace();
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return *inherited_;
  while (const dirent* entry = readdir(dir)) {
    struct stat info {};
    int fd = std::atoi(entry->d_name);
    // Inherited claims survived an exec, so they lack FD_CLOEXEC; our own never do.
    if (entry->d_name[0] == '.' || fd == dirfd(dir) || fcntl(fd, F_GETFD) != 0 || fstat(fd, &info) != 0) continue;
    if (auto key = file_key(info)) inherited_->insert(*key);
  }
  closedir(dir);
  return *inherited_;
}

std::optional<FileKey> LockDir::lock_key(const std::string& uuid) const {
  struct stat info {};
  if (lstat(lock_path(uuid).c_str(), &info) != 0) return std::nullopt;
  return file_key(info);
}

bool LockDir::is_inherited(const std::string& uuid) {
  if (inherited().empty()) return false;  // no inherited file at all: spare the launch path a stat
  auto key = lock_key(uuid);
  return key && inherited().count(*key) > 0;
}

void LockDir::read_holders(Machine& machine) {
  auto holders = read_proc_locks();
  for (auto& gpu : machine.gpus) {
    gpu.claims.clear();
    auto key = gpu.usable() ? lock_key(gpu.uuid) : std::nullopt;
    if (!key) continue;
    auto found = holders.find(*key);
    if (found == holders.end()) continue;
    gpu.claims = found->second;
    bool ours = inherited().count(*key) > 0;
    for (auto& holder : gpu.claims) {
      holder.user = process_user(holder.pid);
      holder.command = process_command(holder.pid);
      holder.inherited = ours;
    }
  }
}

Result<ClaimAttempt> LockDir::claim(const std::vector<const Gpu*>& gpus, ClaimMode mode) {
  if (auto ready = prepare(); !ready) return ready.error();
  inherited();  // before this attempt opens any lock file
  std::vector<UniqueFd> fds;
  std::vector<const Gpu*> claimed;
  for (const Gpu* gpu : gpus) {
    // Already ours: the ancestor's descriptors stay open in the command we exec.
    if (is_inherited(gpu->uuid)) continue;
    std::string path = lock_path(gpu->uuid);
    claimed.push_back(gpu);
    UniqueFd fd = open_lock_file(path);
    if (!fd.valid()) {
      return lock_dir_error("cannot open lock file " + path + ": " + std::strerror(errno));
    }
    int operation = (mode == ClaimMode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
    if (flock(fd.get(), operation) != 0) {
      if (errno == EWOULDBLOCK) return ClaimAttempt{nullptr, gpu->index};  // fds close: all or nothing
      return lock_dir_error("cannot lock " + path + ": " + std::strerror(errno));
    }
    fds.push_back(std::move(fd));
  }
  for (const Gpu* gpu : claimed) {
    if (UniqueFd signal = open_release_signal(lock_path(gpu->uuid)); signal.valid()) fds.push_back(std::move(signal));
  }
  return ClaimAttempt{std::make_unique<FlockClaims>(std::move(fds)), std::nullopt};
}

}  // namespace wg
