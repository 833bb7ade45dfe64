#pragma once
// The Slurm job this process runs in, as its environment says: which job and step, and
// how many GPUs Slurm gave it. Pure: the caller reads the variables.

#include <optional>
#include <string>

namespace wg {

// The variables Slurm sets for a job's processes, unset ones empty.
struct SlurmVariables {
  std::optional<std::string> job_id;        // SLURM_JOB_ID
  std::optional<std::string> step_id;       // SLURM_STEP_ID
  std::optional<std::string> job_gpus;      // SLURM_JOB_GPUS: Slurm's own GPU indices, "0,1"
  std::optional<std::string> step_gpus;     // SLURM_STEP_GPUS: the same for the step
  std::optional<std::string> gpus_on_node;  // SLURM_GPUS_ON_NODE: a count
};

struct SlurmJob {
  std::string job_id;
  std::optional<std::string> step_id;
  // How many GPUs Slurm gave the step (else the job) on this node; empty when Slurm
  // says nothing about GPUs, which is what it says to a job without --gres.
  std::optional<unsigned> gpu_count;
  std::string gpus_variable;  // "SLURM_STEP_GPUS=0,1", whichever variable gave the count
};

// The job, or empty when this process is not in a Slurm job.
std::optional<SlurmJob> slurm_job(const SlurmVariables& variables);

// "Slurm job 14" or "Slurm job 14 step 0".
std::string describe_job(const SlurmJob& job);

// "SLURM_JOB_ID.SLURM_STEP_ID" ("14.0", or "14" without a step): what identifies the
// step among a process's variables, to tell tasks of one step apart from the rest.
std::string step_key(const SlurmJob& job);

// True when the job was given no GPUs: Slurm counts none, and so it left no
// CUDA_VISIBLE_DEVICES (it removes an inherited one from jobs without GPUs).
bool given_no_gpus(const SlurmJob& job, const std::optional<std::string>& cuda_visible_devices);

}  // namespace wg
