#include "output/format.hpp"

#include <fmt/format.h>

namespace wg {

std::uint64_t to_mib(std::uint64_t bytes) { return bytes / (1024ull * 1024ull); }

std::string format_bytes(std::uint64_t bytes) {
  constexpr double kGiBd = 1024.0 * 1024.0 * 1024.0;
  if (bytes >= 1024ull * 1024ull * 1024ull) return fmt::format("{:.1f} GiB", double(bytes) / kGiBd);
  return fmt::format("{} MiB", to_mib(bytes));
}

std::string or_na(const std::optional<unsigned>& value, const char* unit) {
  return value ? fmt::format("{}{}", *value, unit) : "n/a";
}

namespace {

std::string not_idle_reason(const Gpu& gpu, const Reason& reason) {
  if (reason.value < 0) return "not idle (process list not available)";
  if (reason.value > 0) return fmt::format("not idle ({} process{})", reason.value, reason.value == 1 ? "" : "es");
  return fmt::format("not idle ({} used)", format_bytes(gpu.memory_used_bytes));
}

// Whether a utilization or power figure is the window's mean or one instant.
std::string basis(const Reason& reason) {
  if (reason.text == "average") return " (average)";
  if (reason.text == "instant") return " (instantaneous: the driver keeps no samples)";
  return "";
}

}  // namespace

std::string readings_summary(const Gpu& gpu) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (auto util = utilization_reading(gpu)) add(fmt::format("util {:.0f}%{}", util->value, util->averaged ? " avg" : " now"));
  if (gpu.temperature_c) add(fmt::format("{}C", *gpu.temperature_c));
  if (auto power = power_reading(gpu)) add(fmt::format("{:.0f} W{}", power->value, power->averaged ? " avg" : " now"));
  return out;
}

std::string format_reason(const Gpu& gpu, const Reason& reason) {
  switch (reason.filter) {
    case Filter::unusable: return "unusable: " + reason.text;
    case Filter::not_allocated: return "not in CUDA_VISIBLE_DEVICES";
    case Filter::claimed:
      return fmt::format("claimed by pid {}{}", reason.value, reason.text.empty() ? "" : " (" + reason.text + ")");
    case Filter::shared:
      return fmt::format("shared by pid {}{}{}", reason.value, reason.text.empty() ? "" : " (" + reason.text + ")",
                         reason.limit > 1 ? fmt::format(" and {} other{}", reason.limit - 1, reason.limit > 2 ? "s" : "")
                                          : "");
    case Filter::hidden_usage:
      return fmt::format("suspected hidden usage: {} used by processes NVML does not list",
                         format_bytes(std::uint64_t(reason.value)));
    case Filter::min_memory:
      return fmt::format("{} free < {}", format_bytes(std::uint64_t(reason.value)),
                         format_bytes(std::uint64_t(reason.limit)));
    case Filter::max_util:
      return fmt::format("utilization {:.0f}% > {}%{}", reason.value, reason.limit, basis(reason));
    case Filter::util_unknown: return "utilization not reported by the driver";
    case Filter::max_temp: return fmt::format("temperature {}C > {}C", reason.value, reason.limit);
    case Filter::temp_unknown: return "temperature not reported by the driver";
    case Filter::max_power:
      return fmt::format("power {:.0f} W > {:.0f} W{}", reason.value, reason.limit, basis(reason));
    case Filter::power_unknown:
      return reason.text == "limit" ? "power limit not reported by the driver (a percentage needs it)"
                                    : "power draw not reported by the driver";
    case Filter::cooling:
      return fmt::format("cooling: below --max-temp for {:.1f}s of {:.1f}s", reason.value / 1000, reason.limit / 1000);
    case Filter::not_idle: return not_idle_reason(gpu, reason);
    case Filter::gpu_type: return fmt::format("'{}' does not match --gpu-type {} (--strict)", gpu.name, reason.text);
    case Filter::numa:
      return fmt::format("not local to the CPUs with-gpu may use (--numa require; its CPUs: {}{})", reason.text,
                         reason.value >= 0 ? fmt::format(", NUMA node {}", reason.value) : "");
    case Filter::numa_unknown: return "local CPUs not reported by the driver (--numa require)";
  }
  return "rejected";
}

std::string format_reasons(const Gpu& gpu, const std::vector<Reason>& reasons) {
  std::string text;
  for (const auto& reason : reasons) {
    if (!text.empty()) text += "; ";
    text += format_reason(gpu, reason);
  }
  return text;
}

std::string format_warning(const Gpu& gpu, const SelectionWarning& warning, const SelectionOptions& options) {
  switch (warning.kind) {
    case Warning::low_free_memory:
      return fmt::format("GPU {} has only {} free", gpu.index, format_bytes(gpu.memory_free_bytes));
    case Warning::not_idle: {
      auto count = process_count(gpu);
      std::string evidence = count ? fmt::format("{} process{}, {} used", *count, *count == 1 ? "" : "es",
                                                 format_bytes(gpu.memory_used_bytes))
                                   : "process list not available";
      return fmt::format("GPU {} is not idle ({})", gpu.index, evidence);
    }
    case Warning::type_fallback:
      return fmt::format("GPU {} ({}) does not match --gpu-type {}; using it because no matching GPU is free",
                         gpu.index, gpu.name, options.gpu_type.value_or(""));
  }
  return {};
}

}  // namespace wg
