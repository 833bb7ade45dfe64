#include "output/format.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/queue.hpp"
#include "core/text.hpp"

namespace wg {

std::uint64_t to_mib(std::uint64_t bytes) { return bytes / (1024ull * 1024ull); }

double rounded(double value, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

std::string format_bytes(std::uint64_t bytes) {
  constexpr double kGiBd = 1024.0 * 1024.0 * 1024.0;
  if (bytes >= 1024ull * 1024ull * 1024ull) return fmt::format("{:.1f} GiB", double(bytes) / kGiBd);
  return fmt::format("{} MiB", to_mib(bytes));
}

std::string or_na(const std::optional<unsigned>& value, const char* unit) {
  return value ? fmt::format("{}{}", *value, unit) : "n/a";
}

std::string describe_impossible_memory(const ImpossibleMemory& memory) {
  std::string total = format_bytes(memory.total_bytes);
  std::string comparison;
  switch (memory.fault) {
    case MemoryFault::free_above_total: comparison = "free " + format_bytes(memory.free_bytes); break;
    case MemoryFault::used_above_total: comparison = "used " + format_bytes(memory.used_bytes); break;
    case MemoryFault::reserved_above_total: comparison = "reserved " + format_bytes(memory.reserved_bytes); break;
    case MemoryFault::sum_above_total:
      comparison = "free " + format_bytes(memory.free_bytes) + " + used " + format_bytes(memory.used_bytes);
      break;
  }
  return fmt::format("memory reading is impossible ({} > total {})", comparison, total);
}

std::string free_memory_text(const Gpu& gpu) {
  if (gpu.memory_free_bytes) return format_bytes(*gpu.memory_free_bytes) + " free";
  if (gpu.impossible_memory) return "memory unknown: " + describe_impossible_memory(*gpu.impossible_memory);
  return "memory unknown";
}

std::string used_memory_text(const Gpu& gpu) {
  return gpu.memory_used_bytes ? format_bytes(*gpu.memory_used_bytes) + " used" : "memory use unknown";
}

std::string busy_evidence(const Gpu& gpu) {
  auto count = process_count(gpu);
  if (!count) return "process list not available";
  return fmt::format("{} process{}, {}", *count, *count == 1 ? "" : "es", used_memory_text(gpu));
}

std::string tier_text(const Gpu& gpu, Tier tier) {
  return tier == Tier::idle ? "idle" : "busy (" + busy_evidence(gpu) + ")";
}

namespace {

std::string not_idle_reason(const Gpu& gpu, const Reason& reason) {
  if (reason.value < 0) return "not idle (process list not available)";
  if (reason.value > 0) return fmt::format("not idle ({} process{})", reason.value, reason.value == 1 ? "" : "es");
  return fmt::format("not idle ({})", used_memory_text(gpu));
}

// Whether a utilization or power figure is the window's mean or one instant.
std::string basis(const Reason& reason) {
  if (reason.basis == Basis::average) return " (average)";
  if (reason.basis == Basis::instant) return " (instantaneous: the driver keeps no samples)";
  return "";
}

const char* file_type_phrase(FileType type) {
  switch (type) {
    case FileType::regular: return "a regular file";
    case FileType::directory: return "a directory";
    case FileType::symlink: return "a symbolic link";
    case FileType::fifo: return "a FIFO";
    case FileType::socket: return "a socket";
    case FileType::device: return "a device node";
    case FileType::other: return "not a regular file";
  }
  return "not a regular file";
}

// The holder a claimed or shared reason names, as a phrase.
std::string holder_of(const Gpu& gpu, const Reason& reason);

// mig_split: value = the GPU's instance count.
std::string mig_split_reason(const Reason& reason) {
  auto count = static_cast<unsigned>(reason.value);
  if (count == 0) return "in MIG mode with no instances: CUDA cannot use it whole";
  return fmt::format("in MIG mode: its {} instance{} offered instead", count, count == 1 ? " is" : "s are");
}

// mig_single: value = the devices the launch asks for.
std::string mig_single_reason(const Reason& reason) {
  if (reason.value < 0) return "a MIG instance: --min-gpus all takes every whole GPU";
  auto asked = static_cast<unsigned>(reason.value);
  return fmt::format("a MIG instance: a CUDA process uses only one, and this launch asks for {}",
                     asked > 1 ? fmt::format("{} devices", asked) : "more than one device");
}

// mig_profile: text = the --mig-profile asked for; the device's own profile is its own.
std::string mig_profile_reason(const Gpu& gpu, const Reason& reason) {
  if (!gpu.mig) return "a whole GPU, not a MIG instance of --mig-profile " + reason.text;
  return fmt::format("profile {}, not --mig-profile {}", gpu.mig->profile, reason.text);
}

}  // namespace

std::string describe_lock_problem(const LockProblem& problem) {
  std::string owner = problem.owner.value_or("an unknown user");
  switch (problem.kind) {
    case LockFileProblem::not_regular:
      return fmt::format("lock file {} is {} owned by {}, not a regular file; ask {} or root to remove it, "
                         "or use another --lock-dir",
                         problem.path, file_type_phrase(problem.type), owner, owner);
    case LockFileProblem::no_access:
      return fmt::format("lock file {} (owner {}, mode {:04o}) cannot be opened; ask {} or root to remove it, "
                         "or use another --lock-dir",
                         problem.path, owner, problem.mode, owner);
    case LockFileProblem::linked:
      return fmt::format("lock file {} (owner {}) has {} names (hard links), which would tie GPUs together; ask {} "
                         "or root to remove it, or use another --lock-dir",
                         problem.path, owner, problem.links, owner);
    case LockFileProblem::cannot_open:
      return fmt::format("lock file {} (owner {}) cannot be opened: {}; ask {} or root to remove it, or use another "
                         "--lock-dir",
                         problem.path, owner, std::strerror(problem.error), owner);
    case LockFileProblem::cannot_create:
      return fmt::format("no lock file {} in the hardened lock directory (owner {}); ask root to run "
                         "`with-gpu --init-lock-dir` again (it makes one for every GPU)",
                         problem.path, owner);
  }
  return "lock file " + problem.path + " cannot be used";
}

std::string describe_claim_holder(const ClaimHolder& holder) {
  std::string who = describe_holder(holder);
  std::string text = holder.pid > 0 ? fmt::format("pid {}", holder.pid) : "a process with-gpu cannot see";
  if (!who.empty()) text += " (" + who + ")";
  if (holder.file_deleted) text += " through a deleted lock file";
  if (holder.same_job_step) text += ", a task of this same Slurm job step (tasks that share GPUs need --share)";
  return text;
}

namespace {

std::string holder_of(const Gpu& gpu, const Reason& reason) {
  for (const auto& holder : gpu.claims) {
    if (double(holder.pid) == reason.value) return describe_claim_holder(holder);
  }
  ClaimHolder named{int(reason.value), ClaimMode::exclusive, {}, {}};
  if (!reason.text.empty()) named.command = reason.text;
  return describe_claim_holder(named);
}

}  // namespace

std::string cuda_version_text(int version) { return fmt::format("{}.{}", version / 1000, (version % 1000) / 10); }

std::string readings_summary(const Gpu& gpu) {
  std::vector<std::string> parts;
  if (auto util = utilization_reading(gpu)) {
    parts.push_back(fmt::format("util {:.0f}%{}", util->value, util->averaged ? " avg" : " now"));
  }
  if (gpu.temperature_c) parts.push_back(fmt::format("{}C", *gpu.temperature_c));
  if (auto power = power_reading(gpu)) {
    parts.push_back(fmt::format("{:.0f} W{}", power->value, power->averaged ? " avg" : " now"));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string format_reason(const Gpu& gpu, const Reason& reason) {
  switch (reason.filter) {
    case Filter::unusable: return "unusable: " + reason.text;
    case Filter::not_allocated: return "not in CUDA_VISIBLE_DEVICES";
    case Filter::no_access:
      return "no access: " + describe_no_access(gpu) + ", as a device cgroup does outside this job's allocation";
    case Filter::claimed: return "claimed by " + holder_of(gpu, reason);
    case Filter::shared:
      return fmt::format("shared by {}{}", holder_of(gpu, reason),
                         reason.limit > 1 ? fmt::format(" and {} other{}", reason.limit - 1, reason.limit > 2 ? "s" : "")
                                          : "");
    case Filter::hidden_usage:
      return fmt::format("suspected hidden usage: {} used by processes NVML does not list",
                         format_bytes(std::uint64_t(reason.value)));
    case Filter::min_memory:
      return fmt::format("{} free < {}", format_bytes(std::uint64_t(reason.value)),
                         format_bytes(std::uint64_t(reason.limit)));
    case Filter::memory_unknown:
      return gpu.impossible_memory ? describe_impossible_memory(*gpu.impossible_memory)
                                   : "memory not reported by the driver";
    case Filter::max_util:
      return fmt::format("utilization {:.0f}% > {}%{}", reason.value, reason.limit, basis(reason));
    case Filter::util_unknown: return "utilization not reported by the driver";
    case Filter::max_temp: return fmt::format("temperature {}C > {}C", reason.value, reason.limit);
    case Filter::temp_unknown: return "temperature not reported by the driver";
    case Filter::max_power:
      return fmt::format("power {:.0f} W > {:.0f} W{}", reason.value, reason.limit, basis(reason));
    case Filter::power_unknown:
      return reason.basis == Basis::missing_limit ? "power limit not reported by the driver (a percentage needs it)"
                                    : "power draw not reported by the driver";
    case Filter::cooling:
      return fmt::format("cooling: below --max-temp for {:.1f}s of {:.1f}s", reason.value / 1000, reason.limit / 1000);
    case Filter::not_idle: return not_idle_reason(gpu, reason);
    case Filter::gpu_type: return fmt::format("'{}' does not match --gpu-type {} (--strict)", gpu.name, reason.text);
    case Filter::numa:
      return fmt::format("not local to the CPUs with-gpu may use (--numa require; its CPUs: {}{})", reason.text,
                         reason.value >= 0 ? fmt::format(", NUMA node {}", reason.value) : "");
    case Filter::numa_unknown: return "local CPUs not reported by the driver (--numa require)";
    case Filter::lock_file: return gpu.lock_problem ? describe_lock_problem(*gpu.lock_problem) : "lock file cannot be used";
    case Filter::queued:
      return fmt::format("reserved for pid {} ({}), {} in line", reason.value, printable(reason.text),
                         ordinal(static_cast<unsigned>(reason.limit)));
    case Filter::mig_split: return mig_split_reason(reason);
    case Filter::mig_single: return mig_single_reason(reason);
    case Filter::mig_profile: return mig_profile_reason(gpu, reason);
  }
  return "rejected";
}

std::string describe_no_access(const Gpu& gpu) {
  switch (gpu.access) {
    case DeviceAccess::accessible: return "";
    case DeviceAccess::denied_by_driver: return "NVML refuses it to this process (NO_PERMISSION)";
    case DeviceAccess::denied_by_device_node:
      return gpu.minor_number ? fmt::format("/dev/nvidia{} refuses this process", *gpu.minor_number)
                              : "its device node refuses this process";
  }
  return "";
}

std::string format_reasons(const Gpu& gpu, const std::vector<Reason>& reasons) {
  std::vector<std::string> phrases;
  for (const auto& reason : reasons) phrases.push_back(format_reason(gpu, reason));
  return fmt::format("{}", fmt::join(phrases, "; "));
}

std::string format_warning(const Gpu& gpu, const SelectionWarning& warning, const SelectionOptions& options) {
  switch (warning.kind) {
    case Warning::low_free_memory:
      return fmt::format("{} has only {}", device_label(gpu), free_memory_text(gpu));
    case Warning::not_idle:
      return fmt::format("{} is not idle ({})", device_label(gpu), busy_evidence(gpu));
    case Warning::type_fallback:
      return fmt::format("{} ({}) does not match --gpu-type {}; using it because no matching GPU is free",
                         device_label(gpu), gpu.name, options.gpu_type.value_or(""));
  }
  return {};
}

}  // namespace wg
