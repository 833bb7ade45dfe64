#pragma once
// `with-gpu --dry-run --json`: the decision as one JSON object (docs/json.md,
// docs/decision.schema.json).

#include <string>
#include <vector>

#include "core/binding.hpp"
#include "core/claims.hpp"
#include "core/identity.hpp"
#include "core/result.hpp"
#include "core/selector.hpp"

namespace wg {

inline constexpr int kDecisionSchemaVersion = 2;

// The machine-readable name of a filter ("min_memory", "claimed", ...).
const char* filter_name(Filter filter);

// Whether it would run, the GPUs and the exact environment, and every GPU's verdict
// with machine-readable reasons. `env` is null when it would not run; `command_problem`,
// when not null, says why the command could not run.
std::string render_decision_json(const Machine& machine, const Decision& decision, const SelectionOptions& options,
                                 const CudaEnvironment* env, const std::vector<std::string>& command,
                                 const Binding* binding, const ClaimsPlace& place,
                                 const Error* command_problem);

}  // namespace wg
