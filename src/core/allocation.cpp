#include "core/allocation.hpp"

#include <algorithm>

#include "core/gpu_list.hpp"
#include "core/text.hpp"

namespace wg {
namespace {

std::string gpus(std::size_t count) { return std::to_string(count) + (count == 1 ? " GPU" : " GPUs"); }

}  // namespace

std::optional<std::size_t> visible_entries(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  if (value->find_first_not_of(" \t") == std::string::npos || *value == "-1") return 0;
  auto entries = parse_gpu_list(*value, "CUDA_VISIBLE_DEVICES");
  return entries ? entries->size() : 0;
}

// A Slurm job given no GPUs is refused: Slurm removed CUDA_VISIBLE_DEVICES, and every GPU
// of the node would look free although other jobs own them.
std::optional<std::string> slurm_refusal(const Given& given) {
  if (!given.job || !given_no_gpus(*given.job, given.cuda_visible_devices)) return std::nullopt;
  return describe_job(*given.job) + " was given no GPUs; ask Slurm for them (sbatch/srun --gres=gpu:N or --gpus=N), "
         "or pass --ignore-slurm to choose among every GPU of the node";
}

std::optional<std::string> slurm_count_warning(const Given& given) {
  auto listed = visible_entries(given.cuda_visible_devices);
  if (!given.job || !given.job->gpu_count || !listed || *listed == *given.job->gpu_count) return std::nullopt;
  return describe_job(*given.job) + " was given " + gpus(*given.job->gpu_count) + " (" + given.job->gpus_variable +
         ") but CUDA_VISIBLE_DEVICES=" + *given.cuda_visible_devices + " names " + std::to_string(*listed) +
         "; using CUDA_VISIBLE_DEVICES";
}

std::string too_few_headline(unsigned needed, std::size_t allocated, const Given& given) {
  std::string giver = given.job ? describe_job(*given.job) + " was given" : "the inherited allocation allows";
  return "no suitable GPU: need " + std::to_string(needed) + ", but " + giver + " " + gpus(allocated) +
         " (CUDA_VISIBLE_DEVICES=" + given.cuda_visible_devices.value_or("") + ")";
}

std::string share_of_job(std::size_t chosen, std::size_t allocated, const Given& given) {
  if (!given.job) return "";
  return std::to_string(chosen) + " of " + gpus(allocated) + " of " + describe_job(*given.job);
}

std::size_t whole_gpus(const Machine& machine, const std::optional<std::vector<unsigned>>& allocation) {
  return static_cast<std::size_t>(std::count_if(machine.gpus.begin(), machine.gpus.end(), [&](const Gpu& gpu) {
    bool allowed = !allocation || std::find(allocation->begin(), allocation->end(), gpu.index) != allocation->end();
    return allowed && gpu.usable() && gpu.accessible() && !gpu.split_by_mig() && !gpu.mig;
  }));
}

std::optional<AllocationView> describe_allocation(const Given& given, const Machine& machine) {
  if (!given.job && !given.cuda_visible_devices) return std::nullopt;
  AllocationView view;
  view.cuda_visible_devices = given.cuda_visible_devices;
  std::string who = "CUDA_VISIBLE_DEVICES=" + given.cuda_visible_devices.value_or("");
  if (given.job) {
    view.source = AllocationView::Source::slurm;
    view.job_id = given.job->job_id;
    view.step_id = given.job->step_id;
    view.slurm_gpu_count = given.job->gpu_count;
    if (given_no_gpus(*given.job, given.cuda_visible_devices)) {
      view.summary = describe_job(*given.job) + " was given no GPUs (Slurm left no CUDA_VISIBLE_DEVICES)";
      return view;
    }
    who = describe_job(*given.job) + ", " + gpus(visible_entries(given.cuda_visible_devices).value_or(0)) + " (" +
          who + ")";
  }
  auto allocation = read_allocation(given.cuda_visible_devices, machine);
  if (!allocation) {
    view.summary = who + ": " + allocation.error().message;
    return view;
  }
  if (*allocation) view.gpus = (*allocation)->indices;
  std::string list = join_numbers(view.gpus);
  view.summary = who + ": " + (list.empty() ? "no GPU" : (view.gpus.size() == 1 ? "GPU " : "GPUs ") + list);
  // An instance is always alone in a value (read_allocation refuses more).
  if (view.gpus.size() == 1 && machine.gpus.at(view.gpus[0]).mig) {
    view.summary = who + ": " + device_label(machine.gpus[view.gpus[0]]);
  }
  if (auto warning = slurm_count_warning(given)) {
    view.summary += "; Slurm counts " + gpus(*given.job->gpu_count) + " (" + given.job->gpus_variable + ")";
  }
  return view;
}

}  // namespace wg
