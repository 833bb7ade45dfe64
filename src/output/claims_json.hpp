#pragma once
// Claims as JSON, shared by the status and the decision outputs (inside wg_output only).

#include <nlohmann/json.hpp>

#include "core/claims.hpp"

namespace wg {

// A GPU's lock file problem; null when it has none.
nlohmann::json lock_problem_json(const Gpu& gpu);

// The lock directory: path, whether it is hardened, and its problem (null when none).
nlohmann::json claims_place_json(const ClaimsPlace& place);

}  // namespace wg
