#include "core/user_policy.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace wg {

std::vector<unsigned> gpus_of_user(const Machine& machine, const std::string& user) {
  std::vector<unsigned> held;
  for (const auto& gpu : machine.gpus) {
    bool ours = std::any_of(gpu.claims.begin(), gpu.claims.end(),
                            [&user](const ClaimHolder& holder) { return holder.user == user; });
    if (ours) held.push_back(gpu.index);
  }
  return held;
}

void fit_to_policy(SelectionOptions& selection, const UserPolicy& policy, const Machine& machine,
                   const std::string& user) {
  auto held = static_cast<unsigned>(gpus_of_user(machine, user).size());
  unsigned limit = policy.max_gpus_per_user;
  unsigned left = limit > held ? limit - held : 0;
  if (selection.max_gpus > left && left >= selection.min_gpus) selection.max_gpus = left;
}

Result<std::optional<std::string>> check_policy(const UserPolicy& policy, const Machine& machine,
                                                const Decision& decision, const std::string& user) {
  std::string allows = "the policy in " + policy.source + " allows " + std::to_string(policy.max_gpus_per_user) +
                       (policy.max_gpus_per_user == 1 ? " GPU" : " GPUs") + " per user at once";
  if (decision.needed > policy.max_gpus_per_user) {
    return Error{ErrorKind::no_suitable_gpu, allows + " and this asks for " + std::to_string(decision.needed), {}};
  }
  if (!decision.ok) return std::optional<std::string>{};
  std::vector<unsigned> held = gpus_of_user(machine, user);
  unsigned more = 0;
  for (unsigned index : decision.chosen) {
    if (std::find(held.begin(), held.end(), index) == held.end()) ++more;
  }
  if (held.size() + more <= policy.max_gpus_per_user) return std::optional<std::string>{};
  return std::optional<std::string>{allows + "; " + user + " already holds " + std::to_string(held.size()) +
                                    " (GPU " + join_numbers(held) + ") and this asks for " + std::to_string(more)};
}

}  // namespace wg
