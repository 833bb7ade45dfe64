#pragma once
// One round of selection: the machine as read, the decision, and the claims if taken;
// and what a round says to the user and to the command.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/environment.hpp"
#include "cli/options.hpp"
#include "core/allocation.hpp"
#include "core/claims.hpp"
#include "core/gpu.hpp"
#include "core/identity.hpp"
#include "core/queue.hpp"
#include "core/result.hpp"
#include "core/selector.hpp"

namespace wg {

struct Round {
  Machine machine;
  SelectionOptions selection;
  Decision decision;
  bool allocation_named_by_uuid = false;
  std::unique_ptr<HeldClaims> held;
  std::optional<std::string> over_policy;  // why the chosen GPUs would break the [policy] limit
  Line line;                               // the waiting line as read for this round
};

// CUDA_VISIBLE_DEVICES (and CUDA_DEVICE_ORDER) for the chosen GPUs, in the form --id-format
// and the caller's own variables ask for.
CudaEnvironment cuda_env_for(const Round& round, const Options& options, const Environment& env);

// Why nothing was chosen: `prefix` and the headline (the [policy] limit, an allocation too
// small for the request), each rejected GPU's reasons, and hints: one launch per worker when
// MIG instances were turned down because several devices are needed, the profiles there are
// when no instance has the --mig-profile asked for, and --status.
Error no_gpu_error(const Round& round, ErrorKind kind, const std::string& prefix, const Given& given);

// The chosen GPUs' share of the inherited allocation ("2 of the job's 4"); empty without one.
std::string share_of_allocation(const Round& round, const Given& given);

// Every GPU's UUID, by NVML index: the names the waiting line knows them by.
std::vector<std::string> uuids_of(const Machine& machine);

}  // namespace wg
