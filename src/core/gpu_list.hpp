#pragma once
// Lists of GPUs as users write them: "--gpu 0,2" and CUDA_VISIBLE_DEVICES entries.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/gpu.hpp"
#include "core/result.hpp"

namespace wg {

// One entry of a list: a number, a full or prefix "GPU-" UUID, or a MIG instance
// ("MIG-<uuid>" or a prefix of it, or the pre-R470 "MIG-GPU-<parent uuid>/<gi>/<ci>").
struct GpuRef {
  std::string text;               // as written, trimmed
  std::optional<unsigned> number; // set for numeric entries
  bool is_mig = false;            // "MIG-..." entries: MIG instances
};

// Splits a comma-separated list into entries. `source` names the list in errors
// ("--gpu", "CUDA_VISIBLE_DEVICES"). Rejects empty entries, junk and duplicates.
Result<std::vector<GpuRef>> parse_gpu_list(std::string_view text, std::string_view source);

// Finds the GPU whose UUID starts with `prefix` (case-insensitive, "GPU-" included).
// Empty when none or more than one matches; `ambiguous` tells which.
std::optional<unsigned> find_by_uuid_prefix(const Machine& machine, std::string_view prefix,
                                            bool* ambiguous);

// Finds the MIG instance a "MIG-..." entry names: a MIG- UUID or a prefix of it
// (case-insensitive), else the pre-R470 form MIG-GPU-<parent uuid or prefix>/<gi>/<ci>.
// Empty when none or more than one matches; `ambiguous` tells which.
std::optional<unsigned> find_mig_instance(const Machine& machine, std::string_view text, bool* ambiguous);

// How many whole GPUs (not MIG instances) the machine has: they come first in
// Machine::gpus, so numbers below it are NVML indices.
std::size_t whole_gpu_count(const Machine& machine);

// The MIG instances of the GPU with NVML index `parent`, in Machine::gpus order.
std::vector<unsigned> mig_instances_of(const Machine& machine, unsigned parent);

// A usage error when `gpu` is in MIG mode (CUDA uses its instances, not the GPU), naming
// its instances; `source` starts the message ("--gpu", "CUDA_VISIBLE_DEVICES entry '0'").
Result<Ok> check_not_split(const Gpu& gpu, const Machine& machine, std::string_view source);

// Resolves `--gpu` entries to indices in Machine::gpus, keeping their order. Numbers are
// NVML indices as nvidia-smi shows them (whole GPUs only); "MIG-..." entries name
// instances; unknown entries are usage errors.
Result<std::vector<unsigned>> resolve_gpu_list(const std::vector<GpuRef>& refs, const Machine& machine);

// Two devices CUDA cannot be given together: the first MIG instance in `indices` and the
// first other device (another instance, or a GPU). Empty when `indices` is one device or
// names no instance.
std::optional<std::pair<unsigned, unsigned>> mig_conflict(const std::vector<unsigned>& indices,
                                                          const Machine& machine);

// What a launch may be given: never a GPU in MIG mode (CUDA uses its instances), and a
// MIG instance only alone (a CUDA process uses one MIG device: never two instances, nor
// an instance and a GPU). A usage error naming `source` ("--gpu") otherwise.
Result<Ok> check_launch_devices(const std::vector<unsigned>& indices, const Machine& machine,
                                std::string_view source);

}  // namespace wg
