#include "output/decision_report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "output/format.hpp"

namespace wg {
namespace {

// " (linked by NV12 at worst)": the weakest connection among several chosen GPUs, when known.
std::string weakest_link_note(const Machine& machine, const Decision& decision) {
  if (decision.chosen.size() < 2 || machine.links.empty()) return {};
  std::optional<GpuLink> weakest;
  int lowest = 0;
  for (std::size_t i = 0; i < decision.chosen.size(); ++i) {
    for (std::size_t j = i + 1; j < decision.chosen.size(); ++j) {
      int score = pair_score(machine, decision.chosen[i], decision.chosen[j]);
      if (!weakest || score < lowest) {
        weakest = link_between(machine, decision.chosen[i], decision.chosen[j]);
        lowest = score;
      }
    }
  }
  if (!weakest->pcie && weakest->nvlinks == 0) return {};
  return fmt::format(" (linked by {}{})", link_label(*weakest), decision.chosen.size() > 2 ? " at worst" : "");
}

// "GPU 0,2" for whole GPUs; "GPU 0 MIG 3g.40gb #1" for an instance, which is chosen alone.
std::string chosen_devices(const Machine& machine, const Decision& decision) {
  std::vector<std::string> labels;
  bool instances = false;
  for (unsigned index : decision.chosen) {
    labels.push_back(device_label(machine.gpus[index]));
    instances = instances || machine.gpus[index].mig.has_value();
  }
  if (!instances) return "GPU " + join_numbers(decision.chosen, ",");
  return fmt::format("{}", fmt::join(labels, ", "));
}

}  // namespace

std::string no_gpu_headline(const Decision& decision) {
  return fmt::format("no suitable GPU: need {}, {} eligible", decision.needed, decision.eligible_count);
}

std::string rejection_lines(const Machine& machine, const Decision& decision) {
  std::string out;
  for (const auto& verdict : decision.verdicts) {
    if (verdict.verdict != Verdict::rejected) continue;
    const Gpu& gpu = machine.gpus[verdict.index];
    out += fmt::format("  {}: {}\n", device_label(gpu), format_reasons(gpu, verdict.reasons));
  }
  return out;
}

namespace {

std::string verdict_text(const Gpu& gpu, const GpuVerdict& verdict) {
  switch (verdict.verdict) {
    case Verdict::chosen:
      return fmt::format("  {}: chosen ({}), tier: {}", device_label(gpu), free_memory_text(gpu),
                         tier_text(gpu, verdict.tier));
    case Verdict::eligible:
      return fmt::format("  {}: eligible, not needed ({}), tier: {}", device_label(gpu), free_memory_text(gpu),
                         tier_text(gpu, verdict.tier));
    case Verdict::rejected:
      return fmt::format("  {}: rejected: {}", device_label(gpu), format_reasons(gpu, verdict.reasons));
  }
  return {};
}

std::string verdict_line(const Gpu& gpu, const GpuVerdict& verdict) {
  std::string readings = gpu.usable() ? readings_summary(gpu) : "";
  return verdict_text(gpu, verdict) + (readings.empty() ? "" : " [" + readings + "]");
}

}  // namespace

std::string describe_binding(const Binding& binding, const std::string& why_not) {
  if (!binding.problem.empty()) return "not pinned: " + binding.problem;
  return fmt::format("CPU{} {}; {}", binding.cpus.count() == 1 ? "" : "s", binding.cpus.to_string(),
                     binding.memory_nodes.empty()
                         ? "memory left to the kernel (" + why_not + ")"
                         : fmt::format("memory preferred on NUMA node {}", fmt::join(binding.memory_nodes, ",")));
}

std::string render_dry_run(const Machine& machine, const Decision& decision, const CudaEnvironment* env,
                           const std::vector<std::string>& command, const Binding* binding, const ClaimsPlace& place,
                           const Error* command_problem) {
  std::string out;
  if (command_problem) {
    out += "would not run: " + command_problem->message + "\n" + command_problem->details;
  } else if (decision.ok && env) {
    out += fmt::format("would run: {}\n", command.empty() ? "(no command)" : join_words(command));
    out += fmt::format("on {}{}\n", chosen_devices(machine, decision), weakest_link_note(machine, decision));
    out += fmt::format("  CUDA_VISIBLE_DEVICES={}\n", env->visible_devices);
    if (env->device_order) out += fmt::format("  CUDA_DEVICE_ORDER={}\n", *env->device_order);
    if (binding) out += "  --bind: " + describe_binding(*binding) + "\n";
  } else if (decision.ok && place.problem) {
    out += "would not run: " + *place.problem + "\n";
  } else {
    out += "would not run: " + no_gpu_headline(decision) + "\n";
  }
  out += "GPUs:\n";
  for (const auto& verdict : decision.verdicts) out += verdict_line(machine.gpus[verdict.index], verdict) + "\n";
  return out;
}

std::string selection_summary(const Machine& machine, const Decision& decision, const CudaEnvironment& env,
                              const std::string& share) {
  std::vector<std::string> gpus;
  for (unsigned index : decision.chosen) {
    const Gpu& gpu = machine.gpus[index];
    gpus.push_back(fmt::format("{} ({}, {})", device_label(gpu), gpu.name, free_memory_text(gpu)));
  }
  return fmt::format("using {}{}{}; CUDA_VISIBLE_DEVICES={}", fmt::join(gpus, ", "),
                     weakest_link_note(machine, decision), share.empty() ? "" : " (" + share + ")", env.visible_devices);
}
}  // namespace wg
