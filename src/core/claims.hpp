#pragma once
// Cooperative claims on GPUs, keyed by UUID. The interface lets the application flow
// run against an in-memory store in tests and the lock directory in the product.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/gpu.hpp"
#include "core/result.hpp"

namespace wg {

// Claims this process holds. Released on destruction, unless the process execs first
// with keep_across_exec(), in which case the command holds them until it exits.
class HeldClaims {
 public:
  virtual ~HeldClaims() = default;
  virtual void keep_across_exec() = 0;
  // The descriptors that hold the claims in the command, "5,6" (new and inherited ones):
  // the value of WITH_GPU_CLAIMS, by which a with-gpu run inside the command proves
  // that the claims it inherits are its own.
  virtual std::string descriptors() const = 0;
};

// The outcome of a claim attempt: all GPUs held; or none, and either the first one that
// another process holds or the first one whose lock file cannot be used.
struct ClaimAttempt {
  std::unique_ptr<HeldClaims> held;
  std::optional<unsigned> conflict_index;
  std::optional<unsigned> problem_index;
  std::optional<LockProblem> problem;
};

// Where claims live, for reports: the directory and whether only root can change it.
struct ClaimsPlace {
  std::string path;
  bool hardened = false;               // root-owned, not writable by others (--init-lock-dir)
  std::optional<std::string> problem;  // why the directory cannot be used; empty when it can
};

class ClaimStore {
 public:
  virtual ~ClaimStore() = default;
  // Makes the store ready for claims and for watching (creates the lock directory).
  virtual Result<Ok> prepare() = 0;
  // Fills `claims` (and `lock_problem`) on every usable GPU as the directory shows them now.
  virtual void read_holders(Machine& machine) = 0;
  // Claims every GPU of `gpus` or none (all-or-nothing, never blocking).
  virtual Result<ClaimAttempt> claim(const std::vector<const Gpu*>& gpus, ClaimMode mode) = 0;
  // While waiting: keeps track of every GPU's claim, so that one whose lock file is then
  // deleted or replaced is still seen by later attempts.
  virtual void track_claims(const Machine& machine) = 0;
  // True when a tracked claim is held through a lock file that was deleted: its end
  // wakes nobody, so a waiter should look again soon.
  virtual bool tracks_deleted_claims() const = 0;
  // Without inotify, a waiter's cheap look (no driver call): true when one of `uuids`,
  // tracked since track_claims, could now be claimed in `mode` (the look holds it for no
  // longer than a system call). This default sees nothing, as fakes want.
  virtual bool any_claimable(const std::vector<std::string>& uuids, ClaimMode mode) {
    (void)uuids;
    (void)mode;
    return false;
  }
  // The directory, without creating it.
  virtual ClaimsPlace place() const = 0;
};

}  // namespace wg
