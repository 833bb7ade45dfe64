#pragma once
// What with-gpu says about the GPUs it was given, by Slurm or by an inherited
// CUDA_VISIBLE_DEVICES: refusals, warnings, headlines and the --status view. Pure.

#include <optional>
#include <string>
#include <vector>

#include "core/gpu.hpp"
#include "core/slurm.hpp"
#include "core/visible_devices.hpp"

namespace wg {

// What the process was given: the Slurm job (empty outside one or with --ignore-slurm)
// and the inherited CUDA_VISIBLE_DEVICES (empty when unset).
struct Given {
  std::optional<SlurmJob> job;
  std::optional<std::string> cuda_visible_devices;
};

// How many entries CUDA_VISIBLE_DEVICES lists, as read_allocation reads them (0 for "" and
// "-1"); empty when it is unset.
std::optional<std::size_t> visible_entries(const std::optional<std::string>& value);

// The error for a Slurm job given no GPUs, or empty.
std::optional<std::string> slurm_refusal(const Given& given);

// The warning when Slurm's GPU count and CUDA_VISIBLE_DEVICES disagree, or empty.
std::optional<std::string> slurm_count_warning(const Given& given);

// The headline when a request needs more GPUs than the allocation holds:
// "no suitable GPU: need 3, but Slurm job 14 step 0 was given 2 GPUs (CUDA_VISIBLE_DEVICES=0,1)".
std::string too_few_headline(unsigned needed, std::size_t allocated, const Given& given);

// "1 of 2 GPUs of Slurm job 14", for the launch summary; empty outside Slurm.
std::string share_of_job(std::size_t chosen, std::size_t allocated, const Given& given);

// The whole GPUs --min-gpus all asks for: the usable ones this process may open, within
// `allocation` when there is one. Neither a GPU in MIG mode nor a MIG instance counts
// (where there are only instances, all means one: a process uses one).
std::size_t whole_gpus(const Machine& machine, const std::optional<std::vector<unsigned>>& allocation);

// The allocation as --status shows it; empty when nothing was given.
std::optional<AllocationView> describe_allocation(const Given& given, const Machine& machine);

}  // namespace wg
