#pragma once
// Claims as flock()s on one file per GPU UUID in a shared directory: the kernel drops a
// claim the moment its last holder exits, however it exits, so nothing is ever stale.
// The directory is either root's hardened one (default /run/with-gpu, made by
// --init-lock-dir) or a sticky, world-writable one like /tmp (default /tmp/with-gpu);
// docs/security.md says what each guarantees against other users.

#include <sys/stat.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "core/claims.hpp"
#include "os/fd.hpp"
#include "os/lock_file.hpp"
#include "os/proc_locks.hpp"

namespace wg {

inline constexpr const char* kHardenedLockDir = "/run/with-gpu";
inline constexpr const char* kSharedLockDir = "/tmp/with-gpu";
// The variable that names, in a command with-gpu launched, the descriptors holding its claims.
inline constexpr const char* kClaimsVariable = "WITH_GPU_CLAIMS";

// The lock directory used when none is given: `hardened` when it is a directory that only
// root can change, else `shared`.
std::string default_lock_dir(const std::string& hardened = kHardenedLockDir,
                             const std::string& shared = kSharedLockDir);

// True when `info` is a directory owned by root that nobody else may write.
bool is_hardened(const struct stat& info);

// --init-lock-dir: makes `path` a directory owned by root, mode 0755, holding a lock file
// owned by root, mode 0666, for each UUID: users can lock them but can neither delete,
// replace nor plant files. Must run as root. Returns what it did, for the user.
Result<std::string> init_hardened_lock_dir(const std::string& path, const std::vector<std::string>& uuids);

// How many of these GPUs someone holds a claim on in the directory `path` now.
std::size_t claims_held_in(const std::string& path, const std::vector<std::string>& uuids);

class LockDir : public ClaimStore {
 public:
  // `inherited_claims`: the WITH_GPU_CLAIMS value this process was started with.
  explicit LockDir(std::string path, std::optional<std::string> inherited_claims = std::nullopt);

  Result<Ok> prepare() override;
  void read_holders(Machine& machine) override;
  Result<ClaimAttempt> claim(const std::vector<const Gpu*>& gpus, ClaimMode mode) override;
  void track_claims(const Machine& machine) override;
  bool tracks_deleted_claims() const override;
  bool any_claimable(const std::vector<std::string>& uuids, ClaimMode mode) override;
  ClaimsPlace place() const override;

  // The lock file of a GPU: "<dir>/gpu-<uuid without GPU->.lock".
  std::string lock_path(const std::string& uuid) const;
  // Its name inside the directory.
  static std::string lock_name(const std::string& uuid);

 private:
  struct Tracked {
    UniqueFd fd;  // read-only, holds no lock
    FileKey key;
  };
  enum class Take { taken, busy, problem, failed };
  struct Taking {
    Take outcome = Take::failed;
    UniqueFd fd;
    FileKey key{};
    std::optional<LockProblem> problem;
    Error error;
  };

  struct Proven {
    int fd = -1;
    ClaimMode mode = ClaimMode::exclusive;
  };
  // The inherited descriptors proven to hold a claim, by lock file key.
  const std::map<FileKey, Proven>& proven();
  // The descriptor of an inherited claim on this GPU's current lock file that serves a
  // claim of `mode`, or -1.
  int inherited_fd(const std::string& uuid, ClaimMode mode);
  // Opens (creating if need be) and flocks one GPU's lock file, checking afterwards that
  // the path still names the file locked.
  Taking take(const std::string& uuid, ClaimMode mode, Access access);
  static Taking failed(Error error);
  // Moves a probe's lock to a writable descriptor (whose close wakes waiters): that
  // descriptor; the probe itself where the file is not ours to write; none when another
  // launch took the lock in between.
  Result<std::optional<UniqueFd>> hand_over(const std::string& path, Taking& probe, ClaimMode mode);
  // True when a tracked lock file no longer at its path is still locked against `mode`.
  bool held_through_deleted_file(const std::string& uuid, ClaimMode mode);
  Result<Ok> open_directory();
  Error cannot_create(int error) const;
  // Adds the holders of the lock file `key` to `gpu`, named as they really are.
  void add_holders(Gpu& gpu, const FileKey& key, std::vector<ClaimHolder> holders, bool deleted,
                   std::chrono::steady_clock::time_point until);
  // Replaces holders /proc/locks names wrongly (exited, reused, 0) by the processes that
  // hold the lock now, as far as /proc shows them before `until`.
  void find_real_holders(const FileKey& key, std::vector<ClaimHolder>& holders,
                         std::chrono::steady_clock::time_point until, bool first_look = true);
  // /proc/locks read again, once per report: a lock taken or released since the first
  // read is most often why a holder looks hidden or gone.
  const std::map<FileKey, std::vector<ClaimHolder>>& locks_now();

  std::string path_;
  std::optional<std::string> inherited_claims_;
  UniqueFd dir_;
  struct stat dir_info_ {};
  std::optional<std::map<FileKey, Proven>> proven_;
  std::map<std::string, Tracked> tracked_;  // UUID -> lock file as first seen while waiting
  std::optional<std::map<FileKey, std::vector<ClaimHolder>>> locks_now_;  // this report's second read
};

}  // namespace wg
