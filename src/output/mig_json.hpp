#pragma once
// MIG facts as JSON, shared by the status and the decision outputs (inside wg_output only).

#include <nlohmann/json.hpp>

#include "core/gpu.hpp"

namespace wg {

// A GPU's MIG mode: {"current", "pending"}, each "enabled" or "disabled"; null when the GPU
// has no MIG (or is itself an instance).
nlohmann::json mig_mode_json(const Gpu& gpu);

// What makes a device a MIG instance: its parent, profile, GI and CI ids, slice counts and
// place among its parent's instances; null for a whole GPU.
nlohmann::json mig_json(const Gpu& gpu);

}  // namespace wg
