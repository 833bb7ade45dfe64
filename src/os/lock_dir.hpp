#pragma once
// Claims as flock()s on one file per GPU UUID in a shared directory (default
// /tmp/with-gpu): the kernel drops a claim the moment its last holder exits, however
// it exits, so nothing is ever stale.

#include <optional>
#include <set>
#include <string>

#include "core/claims.hpp"
#include "os/proc_locks.hpp"

namespace wg {

inline constexpr const char* kDefaultLockDir = "/tmp/with-gpu";

class LockDir : public ClaimStore {
 public:
  explicit LockDir(std::string path) : path_(std::move(path)) {}

  Result<Ok> prepare() override;
  void read_holders(Machine& machine) override;
  Result<ClaimAttempt> claim(const std::vector<const Gpu*>& gpus, ClaimMode mode) override;

  // The lock file of a GPU: "<dir>/gpu-<uuid without GPU->.lock".
  std::string lock_path(const std::string& uuid) const;

 private:
  // The lock files this process already has open, inherited from the with-gpu that
  // launched an ancestor: their claims are ours. Read once, before we open any.
  const std::set<FileKey>& inherited();
  bool is_inherited(const std::string& uuid);
  // The GPU's lock file as /proc/locks names it; empty when it does not exist yet.
  std::optional<FileKey> lock_key(const std::string& uuid) const;

  std::string path_;
  std::optional<std::set<FileKey>> inherited_;
};

}  // namespace wg
