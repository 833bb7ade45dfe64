#include "cli/round.hpp"

#include <algorithm>

#include "core/text.hpp"
#include "output/decision_report.hpp"

namespace wg {

CudaEnvironment cuda_env_for(const Round& round, const Options& options, const Environment& env) {
  CallerCudaEnv caller{env.cuda_visible_devices, env.cuda_device_order};
  auto format = resolve_id_format(round.machine, options.id_format, caller, round.allocation_named_by_uuid);
  return cuda_environment(round.machine, round.decision.chosen, format);
}

namespace {

bool rejected_by(const GpuVerdict& verdict, Filter filter) {
  return std::any_of(verdict.reasons.begin(), verdict.reasons.end(),
                     [filter](const Reason& reason) { return reason.filter == filter; });
}

// Instances were turned down because the launch needs several devices: what works instead.
std::string one_instance_hint(const Round& round) {
  for (const auto& verdict : round.decision.verdicts) {
    if (!rejected_by(verdict, Filter::mig_single)) continue;
    std::string profile = round.selection.mig_profile.value_or(round.machine.gpus[verdict.index].mig->profile);
    return "hint: a CUDA process uses one MIG instance and no other device, so a launch that needs several "
           "devices cannot use MIG instances; run one launch per worker instead, e.g. `with-gpu --mig-profile " +
           profile + " python train.py` in each worker process\n";
  }
  return "";
}

// --mig-profile names a profile no instance here has (a typo, another machine's layout).
std::string missing_profile_hint(const Round& round) {
  if (!round.selection.mig_profile) return "";
  std::vector<std::string> profiles;
  for (const auto& gpu : round.machine.gpus) {
    if (!gpu.mig) continue;
    if (lowercase(gpu.mig->profile) == *round.selection.mig_profile) return "";
    if (std::find(profiles.begin(), profiles.end(), gpu.mig->profile) == profiles.end()) {
      profiles.push_back(gpu.mig->profile);
    }
  }
  std::string hint = "hint: no MIG instance here has profile " + *round.selection.mig_profile;
  if (profiles.empty()) return hint + " (no GPU here is split into MIG instances)\n";
  return hint + " (the profiles here: " + join(profiles, ", ") + ")\n";
}

}  // namespace

Error no_gpu_error(const Round& round, ErrorKind kind, const std::string& prefix, const Given& given) {
  if (round.over_policy) return Error{kind, prefix + *round.over_policy, {}};
  std::string headline = no_gpu_headline(round.decision);
  // Asking for more than the allocation holds: say so, naming who gave it.
  if (round.selection.allocation && round.decision.needed > round.selection.allocation->size()) {
    headline = too_few_headline(round.decision.needed, round.selection.allocation->size(), given);
  }
  return Error{kind, prefix + headline,
               rejection_lines(round.machine, round.decision) + one_instance_hint(round) + missing_profile_hint(round) +
                   "hint: run `with-gpu --status` to see every GPU\n"};
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
