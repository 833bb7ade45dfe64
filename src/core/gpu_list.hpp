#pragma once
// Lists of GPUs as users write them: "--gpu 0,2" and CUDA_VISIBLE_DEVICES entries.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/gpu.hpp"
#include "core/result.hpp"

namespace wg {

// One entry of a list: a number, or a full or prefix "GPU-" UUID.
struct GpuRef {
  std::string text;               // as written, trimmed
  std::optional<unsigned> number; // set for numeric entries
  bool is_mig = false;            // "MIG-..." entries, which with-gpu does not select
};

// Splits a comma-separated list into entries. `source` names the list in errors
// ("--gpu", "CUDA_VISIBLE_DEVICES"). Rejects empty entries, junk and duplicates.
Result<std::vector<GpuRef>> parse_gpu_list(std::string_view text, std::string_view source);

// Finds the GPU whose UUID starts with `prefix` (case-insensitive, "GPU-" included).
// Empty when none or more than one matches; `ambiguous` tells which.
std::optional<unsigned> find_by_uuid_prefix(const Machine& machine, std::string_view prefix,
                                            bool* ambiguous);

// Resolves `--gpu` entries to NVML indices, keeping their order. Numbers are NVML
// indices as nvidia-smi shows them; unknown entries are usage errors.
Result<std::vector<unsigned>> resolve_gpu_list(const std::vector<GpuRef>& refs, const Machine& machine);

}  // namespace wg
