#pragma once
// Cooperative claims on GPUs, keyed by UUID. The interface lets the application flow
// run against an in-memory store in tests and the lock directory in the product.

#include <memory>
#include <optional>
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
};

// The outcome of a claim attempt: all GPUs held, or none and the first one that
// another process holds.
struct ClaimAttempt {
  std::unique_ptr<HeldClaims> held;
  std::optional<unsigned> conflict_index;
};

class ClaimStore {
 public:
  virtual ~ClaimStore() = default;
  // Makes the store ready for claims and for watching (creates the lock directory).
  virtual Result<Ok> prepare() = 0;
  // Fills `claims` on every usable GPU with the processes holding it now.
  virtual void read_holders(Machine& machine) = 0;
  // Claims every GPU of `gpus` or none (all-or-nothing, never blocking).
  virtual Result<ClaimAttempt> claim(const std::vector<const Gpu*>& gpus, ClaimMode mode) = 0;
};

}  // namespace wg
