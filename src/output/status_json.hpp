#pragma once
// `with-gpu --status --json`: the machine as one JSON object (docs/json.md).

#include <string>

#include "core/claims.hpp"
#include "core/gpu.hpp"
#include "core/queue.hpp"
#include "core/visible_devices.hpp"

namespace wg {

struct StatusContext {
  std::string hostname;
  std::string timestamp;  // ISO 8601, UTC
  ClaimsPlace claims;     // the lock directory
  std::optional<AllocationView> allocation;  // Slurm's or an inherited CUDA_VISIBLE_DEVICES
  std::vector<Ticket> waiters;               // the waiting line, oldest first
  std::int64_t now_ns = 0;                   // the wall clock, for how long each has waited
  std::optional<std::vector<unsigned>> rows; // --gpu, --gpu-type: the GPUs listed; all when empty
};

inline constexpr int kStatusSchemaVersion = 2;

// The JSON text, pretty-printed, ending with a newline. Unknown readings are null.
std::string render_status_json(const Machine& machine, const StatusContext& context);

}  // namespace wg
