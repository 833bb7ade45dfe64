#include "cli/round.hpp"

#include "output/decision_report.hpp"

namespace wg {

CudaEnvironment cuda_env_for(const Round& round, const Options& options, const Environment& env) {
  CallerCudaEnv caller{env.cuda_visible_devices, env.cuda_device_order};
  auto format = resolve_id_format(round.machine, options.id_format, caller, round.allocation_named_by_uuid);
  return cuda_environment(round.machine, round.decision.chosen, format);
}

Error no_gpu_error(const Round& round, ErrorKind kind, const std::string& prefix, const Given& given) {
  if (round.over_policy) return Error{kind, prefix + *round.over_policy, {}};
  std::string headline = no_gpu_headline(round.decision);
  // Asking for more than the allocation holds: say so, naming who gave it.
  if (round.selection.allocation && round.decision.needed > round.selection.allocation->size()) {
    headline = too_few_headline(round.decision.needed, round.selection.allocation->size(), given);
  }
  return Error{kind, prefix + headline,
               rejection_lines(round.machine, round.decision) + "hint: run `with-gpu --status` to see every GPU\n"};
}

std::string share_of_allocation(const Round& round, const Given& given) {
  if (!round.selection.allocation) return "";
  return share_of_job(round.decision.chosen.size(), round.selection.allocation->size(), given);
}

std::vector<std::string> uuids_of(const Machine& machine) {
  std::vector<std::string> uuids;
  for (const auto& gpu : machine.gpus) uuids.push_back(gpu.uuid);
  return uuids;
}

}  // namespace wg
