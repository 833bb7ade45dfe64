#pragma once
// `with-gpu --status` as an aligned table, one row per GPU, a GPU's MIG instances in rows
// under it.

#include <optional>
#include <string>

#include "core/claims.hpp"
#include "core/gpu.hpp"
#include "core/queue.hpp"
#include "core/selector.hpp"
#include "core/visible_devices.hpp"
#include "output/style.hpp"

namespace wg {

// What the header says about where the readings came from.
struct StatusSource {
  std::string nvml_library;   // path given to dlopen
  bool overridden = false;    // from WITH_GPU_NVML_LIBRARY
  long long sample_window_ms = kDefaultSampleWindowMs;  // what utilization and power are averaged over
  ClaimsPlace claims;                 // the lock directory and whether it is hardened
  std::optional<AllocationView> allocation;  // Slurm's or an inherited CUDA_VISIBLE_DEVICES
  std::vector<Ticket> waiters;               // the waiting line, oldest first
  std::int64_t now_ns = 0;                   // the wall clock, for how long each has waited
  std::optional<std::vector<unsigned>> rows; // --gpu, --gpu-type: the GPUs shown; all when empty
  std::size_t columns = 0;                   // the terminal's width; 0: piped, no limit
  std::string hostname;
  std::string time_of_day;                   // "14:03:27", local
  const SelectionOptions* thresholds = nullptr;  // in force: readings failing them are coloured
};


// The whole table, header included, ending with a newline.
std::string render_status_table(const Machine& machine, const StatusSource& source, const Style& style);

// The waiting line under the table: "waiting: 2 launches" and one line for each, oldest
// first; empty when nobody waits.
std::string render_waiters(const std::vector<Ticket>& waiters, std::int64_t now_ns);

// A GPU's state word: IDLE, USED, CLAIMED by pid N, SHARED by pids ..., UNUSABLE: reason.
std::string gpu_state(const Gpu& gpu);

}  // namespace wg
