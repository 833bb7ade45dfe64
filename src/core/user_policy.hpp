#pragma once
// The admin's per-user limit from the system config's [policy]: how many GPUs one user
// may hold at once, the claims they already hold counted. Pure: the machine with its
// claim holders and the selection in, a narrower request or what the limit says out.

#include <optional>
#include <string>
#include <vector>

#include "core/gpu.hpp"
#include "core/result.hpp"
#include "core/selector.hpp"

namespace wg {

// The limit as the system config sets it; users' files and flags cannot change it.
struct UserPolicy {
  unsigned max_gpus_per_user = 0;
  std::string source;  // the system config file that sets it
};

// The NVML indices of the GPUs `user` holds claims on now, inherited claims included.
std::vector<unsigned> gpus_of_user(const Machine& machine, const std::string& user);

// Lowers a request for a range of GPUs (max_gpus) to what the policy leaves `user`, when
// its minimum still fits.
void fit_to_policy(SelectionOptions& selection, const UserPolicy& policy, const Machine& machine,
                   const std::string& user);

// A request the limit can never allow is an error (no_suitable_gpu). Otherwise why the
// decision's chosen GPUs with those `user` already holds would break the limit, or
// nothing when they fit or nothing was chosen. A GPU the user holds already (a run
// inside its own claim) is not counted twice.
Result<std::optional<std::string>> check_policy(const UserPolicy& policy, const Machine& machine,
                                                const Decision& decision, const std::string& user);

}  // namespace wg
