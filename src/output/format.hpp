#pragma once
// Human wording of quantities, reasons and warnings, shared by every text output.

#include <cstdint>
#include <optional>
#include <string>

#include "core/gpu.hpp"
#include "core/selector.hpp"

namespace wg {

// "1.2 GiB" from 1 GiB up, else "512 MiB".
std::string format_bytes(std::uint64_t bytes);

// Whole MiB, as nvidia-smi shows memory.
std::uint64_t to_mib(std::uint64_t bytes);

// `value` rounded to `decimals` places, for machine-readable output: a reading to what the
// driver measures (milliwatts), an average to one decimal.
double rounded(double value, int decimals);

// The readings the sensor filters use: "util 12% avg, 61C, 210 W avg" ("now" marks an
// instantaneous value where the driver keeps no samples).
std::string readings_summary(const Gpu& gpu);

// A reason as a phrase: "1.2 GiB free < 8.0 GiB", "claimed by pid 4242".
std::string format_reason(const Gpu& gpu, const Reason& reason);

// Why a GPU's lock file cannot be used, and what to do: "lock file /tmp/with-gpu/gpu-1.lock
// is a FIFO owned by mallory, not a regular file; ask mallory or root to remove it, ...".
std::string describe_lock_problem(const LockProblem& problem);

// Who refuses this process a GPU it may not open: "NVML refuses it to this process
// (NO_PERMISSION)", "/dev/nvidia2 refuses this process"; "" for an accessible GPU.
std::string describe_no_access(const Gpu& gpu);

// "pid 4242 (alice, python train.py)"; "a process with-gpu cannot see" when the kernel
// names no pid (another pid namespace).
std::string describe_claim_holder(const ClaimHolder& holder);

// All of a GPU's reasons joined with "; ".
std::string format_reasons(const Gpu& gpu, const std::vector<Reason>& reasons);

// A selection warning as a sentence without the "with-gpu: warning: " prefix.
std::string format_warning(const Gpu& gpu, const SelectionWarning& warning, const SelectionOptions& options);

// The CUDA version the driver supports, as NVML encodes it (1000 * major + 10 * minor),
// the way nvidia-smi shows it: 12020 -> "12.2".
std::string cuda_version_text(int version);

// "n/a" for an unknown reading, else the value with its unit.
std::string or_na(const std::optional<unsigned>& value, const char* unit);

// Why a memory reading cannot be true: "memory reading is impossible (free 50.0 GiB >
// total 40.0 GiB)".
std::string describe_impossible_memory(const ImpossibleMemory& memory);

// "29.3 GiB free"; "memory unknown" (with the reason when the reading was impossible).
std::string free_memory_text(const Gpu& gpu);

// "512 MiB used"; "memory use unknown".
std::string used_memory_text(const Gpu& gpu);

// What keeps a GPU from being idle: "2 processes, 20.0 GiB used", "process list not available".
std::string busy_evidence(const Gpu& gpu);

// A ranking tier as reports word it: "idle", "busy (2 processes, 20.0 GiB used)".
std::string tier_text(const Gpu& gpu, Tier tier);

}  // namespace wg
