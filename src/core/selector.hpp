#pragma once
// GPU selection: a pure function from the machine and the options to a decision with
// a verdict and reasons for every GPU. No I/O, no clock, no environment.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/gpu.hpp"
#include "core/gpu_set.hpp"

namespace wg {

enum class IdleRequirement { any, idle_only };
enum class TypeFallback { allowed, strict };
enum class TopologyUse { prefer, ignore };         // --topology: score GPU sets by interconnect
enum class Locality { prefer, require, ignore };   // --numa: GPUs local to with-gpu's CPUs

// A GPU kept for an older waiter (core/queue.hpp): a younger launch may not take it.
struct QueueHold {
  int pid = 0;
  std::string user;
  unsigned place = 1;  // the waiter's place in line, 1 for the oldest
};

// Utilization and power are averaged over this much of the driver's samples by default
// (--sample-window).
inline constexpr std::int64_t kDefaultSampleWindowMs = 5000;

struct SelectionOptions {
  unsigned min_gpus = 1;
  unsigned max_gpus = 1;                          // the CLI defaults it to min_gpus
  std::optional<std::vector<unsigned>> manual;    // --gpu, resolved to NVML indices
  std::optional<std::vector<unsigned>> allocation;  // inherited CUDA_VISIBLE_DEVICES
  std::uint64_t min_free_bytes = 2048ull * 1024 * 1024;  // 0 disables
  std::optional<unsigned> max_util_percent;      // against the window's mean utilization
  std::optional<unsigned> max_temp_c;
  std::optional<double> max_power_w;            // against the window's mean draw
  std::optional<double> max_power_fraction;     // of the enforced power limit, 0-1
  // GPUs seen above --max-temp within the last window (NVML index -> ms since then):
  // kept out until they have stayed below it for the whole window. Filled by the waiter.
  std::map<unsigned, std::int64_t> cooling_ms;
  std::int64_t sample_window_ms = kDefaultSampleWindowMs;
  IdleRequirement idle = IdleRequirement::any;
  std::optional<std::string> gpu_type;
  std::optional<std::string> mig_profile;       // --mig-profile: only MIG instances of this profile
  bool whole_gpus_only = false;                 // --min-gpus all where there are whole GPUs: no instance
  TypeFallback type_fallback = TypeFallback::allowed;
  ClaimMode claim_mode = ClaimMode::exclusive;  // --share asks for a shared claim
  TopologyUse topology = TopologyUse::prefer;
  Locality numa = Locality::prefer;
  // The CPUs with-gpu may run on; `cpus_restricted` when that is fewer than the machine
  // has online (taskset, numactl, a Slurm or cgroup cpuset). Filled by the CLI.
  std::optional<CpuSet> allowed_cpus;
  bool cpus_restricted = false;
  // GPUs that older waiters can use (NVML index -> the oldest of them): not for this launch.
  std::map<unsigned, QueueHold> queued;
};

// Why a GPU was not eligible. Values are machine-readable: the GPU's reading and the
// limit it failed, in the unit of the filter (bytes, percent, pid).
enum class Filter {
  unusable,          // NVML could not read it
  not_allocated,     // outside the inherited CUDA_VISIBLE_DEVICES
  no_access,         // this process may not open it (Gpu::access says who refused): CUDA does not count it
  claimed,           // another with-gpu holds an exclusive claim; value = pid, text = holder
  shared,            // sharers hold it and we want it alone; value = first pid, limit = sharers
  hidden_usage,      // value = hidden bytes, limit = threshold
  min_memory,        // value = free bytes, limit = required
  memory_unknown,    // --min-memory set, the GPU's memory reading is unknown (Gpu::impossible_memory
                     // says why when the driver's numbers cannot be true); limit = required
  max_util,          // value = percent, limit = percent
  util_unknown,      // --max-util set, the driver reports no utilization (never for a MIG instance:
                     // unknown, not zero, so --max-util rejects every instance)
  max_temp,          // value = degrees C, limit = degrees C
  temp_unknown,      // --max-temp set, the driver reports no temperature
  max_power,         // value = watts, limit = watts
  power_unknown,     // --max-power set, no draw (or, for a percentage, no limit) reported
  cooling,           // was above --max-temp: value = ms below it so far, limit = window ms
  not_idle,          // --require-idle; value = process count (or -1 when unknown)
  gpu_type,          // --strict and the name does not contain --gpu-type
  numa,              // --numa require: none of its local CPUs is allowed; value = its NUMA node
                     // (-1 unknown), text = its local CPUs
  numa_unknown,      // --numa require, the driver reports no local CPUs for it
  lock_file,         // its lock file cannot be used (Gpu::lock_problem says why)
  queued,            // kept for a launch that has waited longer: value = its pid, limit = its
                     // place in line, text = its user
  mig_split,         // a whole GPU in MIG mode: CUDA uses its instances; value = its instance count
  mig_single,        // a MIG instance, and the launch asks for more than one device (value = how
                     // many; -1: --min-gpus all, which takes the whole GPUs): a CUDA process uses
                     // one instance, never two nor an instance and a GPU
  mig_profile,       // --mig-profile (text = the profile asked for) and this is another profile
                     // (Gpu::mig says which) or a whole GPU
};

// What a reason's reading was, where the filter needs saying: a utilization or power
// figure is the window's mean or one instant; power_unknown says which figure is missing.
enum class Basis {
  none,
  average,        // max_util, max_power: the mean over the sample window
  instant,        // max_util, max_power: one reading (the driver keeps no samples)
  missing_limit,  // power_unknown: no enforced power limit, which a percentage needs
  missing_draw,   // power_unknown: no power draw
};

struct Reason {
  Filter filter = Filter::unusable;
  double value = 0;
  double limit = 0;
  std::string text;  // free text where a number does not fit (NVML's error, the model, the holder)
  Basis basis = Basis::none;
};

enum class Verdict { chosen, eligible, rejected };

// Whether anyone computes on a GPU, the first thing ranking looks at (after --gpu-type
// matches): idle GPUs (is_idle: no compute process of any user, this one's own other jobs
// included, and under 500 MiB used) rank before busy ones (a compute process, a process
// list the driver refuses, memory in use). Not a filter: a busy GPU is still chosen, with
// a warning, when too few idle ones pass.
enum class Tier { idle, busy };

// The GPU's tier, from its readings alone.
Tier tier_of(const Gpu& gpu);

struct GpuVerdict {
  unsigned index = 0;
  Verdict verdict = Verdict::rejected;
  std::vector<Reason> reasons;  // empty unless rejected
  bool type_match = true;       // false when --gpu-type is set and the name lacks it
  Tier tier = Tier::busy;       // what ranked it; reports show it for chosen and eligible GPUs
};

enum class Warning { low_free_memory, not_idle, type_fallback };

struct SelectionWarning {
  Warning kind = Warning::not_idle;
  unsigned index = 0;
};

struct Decision {
  bool ok = false;
  std::vector<unsigned> chosen;         // NVML indices in selection order
  std::vector<GpuVerdict> verdicts;     // one per GPU on the machine, by index
  std::vector<SelectionWarning> warnings;
  unsigned needed = 0;                  // how many GPUs the request needs
  unsigned eligible_count = 0;
};

// Decides which GPUs to use. Auto mode ranks eligible GPUs in groups: --gpu-type
// matches first, then idle before busy (Tier), then MIG instances before whole GPUs,
// then (when with-gpu's CPUs are restricted) GPUs local to them; within a group by free
// memory (most first), then fewer compute processes, then lower index, and instances
// smallest first (total memory, then slices), then by free memory and index. Several
// GPUs are the groups needed in full, completed from the last group needed by the set
// with the best interconnect (set_score), ties going to the better-ranked GPUs: the
// interconnect never trades an idle GPU for a busy one. Several devices are never MIG
// instances: a GPU in MIG mode is never a candidate (mig_split), instances are rejected
// when more than one device is needed (mig_single), and a launch that may take more
// (--max-gpus) but needs one gets one instance alone only when no whole GPU of as good a
// type and tier passes. Manual mode keeps the --gpu order and needs every listed GPU
// eligible.
Decision select_gpus(const Machine& machine, const SelectionOptions& options);

// A GPU in MIG mode, an instance for a launch of several devices, another profile: no
// released claim changes these, so waiting will not either.
bool ruled_out_by_mig(Filter filter);

// True when the devices that MIG rules alone do not rule out are enough for `decision`:
// false means --wait would wait forever.
bool mig_leaves_enough(const Decision& decision);

// True when another launch's claim is among the reasons a GPU was rejected.
bool held_by_claim(const GpuVerdict& verdict);

// True when --gpu-type is unset or the GPU's name contains it (case aside).
bool matches_type(const Gpu& gpu, const SelectionOptions& options);

// True when one of the GPU's local CPUs is in `cpus`.
bool is_local_to(const Gpu& gpu, const CpuSet& cpus);

}  // namespace wg
