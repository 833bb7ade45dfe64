#pragma once
// Text for a selection decision: the error when nothing fits, the dry run, the
// and the one-line summary before the command starts.

#include <string>
#include <vector>

#include "core/binding.hpp"
#include "core/claims.hpp"
#include "core/identity.hpp"
#include "core/result.hpp"
#include "core/selector.hpp"

namespace wg {

// "no suitable GPU: need 2, 1 eligible" — the first line of the exit-4 error.
std::string no_gpu_headline(const Decision& decision);

// One indented line per GPU that was not chosen, with why: "  GPU 2: 1.2 GiB free < 8.0 GiB".
std::string rejection_lines(const Machine& machine, const Decision& decision);

// The dry run: the decision, the environment, the --bind plan (null without --bind),
// every GPU's verdict.
// `place` says why it would not run when the lock directory cannot be used;
// `command_problem`, when not null, why the command could not run (it comes first).
std::string render_dry_run(const Machine& machine, const Decision& decision, const CudaEnvironment* env,
                           const std::vector<std::string>& command, const Binding* binding, const ClaimsPlace& place,
                           const Error* command_problem);

// "CPUs 0-23; memory preferred on NUMA node 0", or the reason it cannot bind; without
// memory nodes, "memory left to the kernel (WHY_NOT)".
std::string describe_binding(const Binding& binding, const std::string& why_not = "NUMA node unknown");

// "using GPU 1 (NVIDIA A100, 75.3 GiB free); CUDA_VISIBLE_DEVICES=1"
// `share` ("1 of 2 GPUs of Slurm job 14") follows the GPUs when not empty.
std::string selection_summary(const Machine& machine, const Decision& decision, const CudaEnvironment& env,
                              const std::string& share = "");

}  // namespace wg
