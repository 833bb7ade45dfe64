#include "core/slurm.hpp"

#include <algorithm>

#include "core/units.hpp"

namespace wg {
namespace {

// Slurm writes GPU lists as "0,1" and, on some versions, ranges such as "0-3".
std::optional<unsigned> count_list(const std::string& list) {
  if (list.empty()) return 0u;
  unsigned count = 0;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = std::min(list.find(',', start), list.size());
    std::string item = list.substr(start, end - start);
    auto dash = item.find('-');
    if (dash == std::string::npos) {
      if (!parse_unsigned(item)) return std::nullopt;
      ++count;
    } else {
      auto first = parse_unsigned(item.substr(0, dash));
      auto last = parse_unsigned(item.substr(dash + 1));
      if (!first || !last || *last < *first) return std::nullopt;
      count += *last - *first + 1;
    }
    start = end + 1;
  }
  return count;
}

}  // namespace

std::optional<SlurmJob> slurm_job(const SlurmVariables& variables) {
  if (!variables.job_id || variables.job_id->empty()) return std::nullopt;
  SlurmJob job{*variables.job_id, variables.step_id, std::nullopt, ""};
  auto from_list = [&job](const std::optional<std::string>& list, const char* name) {
    if (job.gpu_count || !list) return;
    job.gpu_count = count_list(*list);
    if (job.gpu_count) job.gpus_variable = std::string(name) + "=" + *list;
  };
  if (variables.step_id) from_list(variables.step_gpus, "SLURM_STEP_GPUS");
  from_list(variables.job_gpus, "SLURM_JOB_GPUS");
  if (!job.gpu_count && variables.gpus_on_node) {
    job.gpu_count = parse_unsigned(*variables.gpus_on_node);
    if (job.gpu_count) job.gpus_variable = "SLURM_GPUS_ON_NODE=" + *variables.gpus_on_node;
  }
  return job;
}

std::string describe_job(const SlurmJob& job) {
  return "Slurm job " + job.job_id + (job.step_id ? " step " + *job.step_id : "");
}

std::string step_key(const SlurmJob& job) { return job.job_id + (job.step_id ? "." + *job.step_id : ""); }

bool given_no_gpus(const SlurmJob& job, const std::optional<std::string>& cuda_visible_devices) {
  return !cuda_visible_devices && job.gpu_count.value_or(0) == 0;
}

}  // namespace wg
