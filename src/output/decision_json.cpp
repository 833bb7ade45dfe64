#include "output/decision_json.hpp"

#include <nlohmann/json.hpp>

#include "output/format.hpp"
#include "output/claims_json.hpp"
#include "output/mig_json.hpp"

namespace wg {
namespace {

using nlohmann::json;

struct FilterInfo {
  Filter filter;
  const char* name;
  const char* unit;  // of value and limit; null when the filter has no number
};

constexpr FilterInfo kFilters[] = {
    {Filter::unusable, "unusable", nullptr},        {Filter::not_allocated, "not_allocated", nullptr},
    {Filter::no_access, "no_access", nullptr},
    {Filter::claimed, "claimed", "pid"},            {Filter::shared, "shared", "pid"},
    {Filter::hidden_usage, "hidden_usage", "MiB"},  {Filter::min_memory, "min_memory", "MiB"},
    {Filter::memory_unknown, "memory_unknown", "MiB"},
    {Filter::max_util, "max_util", "percent"},      {Filter::util_unknown, "util_unknown", "percent"},
    {Filter::max_temp, "max_temp", "celsius"},      {Filter::temp_unknown, "temp_unknown", "celsius"},
    {Filter::max_power, "max_power", "watts"},      {Filter::power_unknown, "power_unknown", "watts"},
    {Filter::cooling, "cooling", "ms"},             {Filter::not_idle, "not_idle", "processes"},
    {Filter::gpu_type, "gpu_type", nullptr},       {Filter::numa, "numa", "node"},
    {Filter::numa_unknown, "numa_unknown", nullptr}, {Filter::lock_file, "lock_file", nullptr},
    {Filter::queued, "queued", "pid"},
    {Filter::mig_split, "mig_split", "instances"},  {Filter::mig_single, "mig_single", "devices"},
    {Filter::mig_profile, "mig_profile", nullptr},
};

// The reading's basis as the schema's "detail" words it; null when there is none.
json basis_json(Basis basis) {
  switch (basis) {
    case Basis::none: return nullptr;
    case Basis::average: return "average";
    case Basis::instant: return "instant";
    case Basis::missing_limit: return "limit";
    case Basis::missing_draw: return "draw";
  }
  return nullptr;
}

const FilterInfo& info(Filter filter) {
  for (const auto& entry : kFilters) {
    if (entry.filter == filter) return entry;
  }
  return kFilters[0];
}

// Value and limit in the filter's unit; null where the filter has none or the GPU's
// reading is what is missing.
json reason_json(const Gpu& gpu, const Reason& reason) {
  const FilterInfo& filter = info(reason.filter);
  bool bytes = reason.filter == Filter::min_memory || reason.filter == Filter::memory_unknown ||
               reason.filter == Filter::hidden_usage;
  bool averaged = reason.filter == Filter::max_util || reason.filter == Filter::max_power;
  auto number = [bytes, averaged](double value) {
    return bytes ? json(to_mib(std::uint64_t(value))) : json(averaged ? rounded(value, 1) : value);
  };
  bool has_value = filter.unit && reason.filter != Filter::util_unknown && reason.filter != Filter::temp_unknown &&
                   reason.filter != Filter::memory_unknown &&
                   reason.filter != Filter::power_unknown && !((reason.filter == Filter::not_idle || reason.filter == Filter::numa) && reason.value < 0);
  bool has_limit = filter.unit && reason.filter != Filter::claimed && reason.filter != Filter::not_idle &&
                   reason.filter != Filter::queued && reason.filter != Filter::mig_split &&
                   reason.filter != Filter::mig_single &&
                   reason.filter != Filter::numa &&
                   !(reason.filter == Filter::power_unknown && reason.limit == 0);
  return {{"filter", filter.name},
          {"value", has_value ? number(reason.value) : json(nullptr)},
          {"limit", has_limit ? number(reason.limit) : json(nullptr)},
          {"unit", filter.unit ? json(filter.unit) : json(nullptr)},
          {"detail", reason.text.empty() ? basis_json(reason.basis) : json(reason.text)},
          {"message", format_reason(gpu, reason)}};
}

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::chosen: return "chosen";
    case Verdict::eligible: return "eligible";
    case Verdict::rejected: return "rejected";
  }
  return "rejected";
}

json readings_json(const Gpu& gpu) {
  auto util = utilization_reading(gpu);
  auto power = power_reading(gpu);
  return {{"memory_free_mib", gpu.memory_free_bytes ? json(to_mib(*gpu.memory_free_bytes)) : json(nullptr)},
          {"utilization_percent", util ? json(rounded(util->value, 1)) : json(nullptr)},
          {"utilization_averaged", util ? json(util->averaged) : json(nullptr)},
          {"temperature_c", gpu.temperature_c ? json(*gpu.temperature_c) : json(nullptr)},
          {"power_w", power ? json(rounded(power->value, power->averaged ? 1 : 3)) : json(nullptr)},
          {"power_averaged", power ? json(power->averaged) : json(nullptr)}};
}

// The ranking tier of a chosen or eligible GPU: {"tier", "tier_detail"}; nulls for a
// rejected one, which was not ranked.
json tier_json(const Gpu& gpu, const GpuVerdict& verdict) {
  if (verdict.verdict == Verdict::rejected) return {{"tier", nullptr}, {"tier_detail", nullptr}};
  if (verdict.tier == Tier::idle) return {{"tier", "idle"}, {"tier_detail", nullptr}};
  return {{"tier", "busy"}, {"tier_detail", busy_evidence(gpu)}};
}

json gpus_json(const Machine& machine, const Decision& decision) {
  json gpus = json::array();
  for (const auto& verdict : decision.verdicts) {
    const Gpu& gpu = machine.gpus[verdict.index];
    json reasons = json::array();
    for (const auto& reason : verdict.reasons) reasons.push_back(reason_json(gpu, reason));
    json tier = tier_json(gpu, verdict);
    gpus.push_back({{"index", gpu.index},
                    {"uuid", gpu.uuid.empty() ? json(nullptr) : json(gpu.uuid)},
                    {"name", gpu.name.empty() ? json(nullptr) : json(gpu.name)},
                    {"verdict", verdict_name(verdict.verdict)},
                    {"tier", tier["tier"]},
                    {"tier_detail", tier["tier_detail"]},
                    {"reasons", reasons},
                    {"readings", readings_json(gpu)},
                    {"numa_node", gpu.numa_node ? json(*gpu.numa_node) : json(nullptr)},
                    {"local_cpus", gpu.local_cpus ? json(gpu.local_cpus->to_string()) : json(nullptr)},
                    {"mig", mig_json(gpu)}});
  }
  return gpus;
}

// How each pair of chosen GPUs is connected, as the matrix labels it.
json chosen_links_json(const Machine& machine, const Decision& decision) {
  json links = json::array();
  if (!decision.ok || machine.links.empty()) return links;
  for (std::size_t i = 0; i < decision.chosen.size(); ++i) {
    for (std::size_t j = i + 1; j < decision.chosen.size(); ++j) {
      GpuLink link = link_between(machine, decision.chosen[i], decision.chosen[j]);
      links.push_back({{"gpus", {decision.chosen[i], decision.chosen[j]}},
                       {"label", link.nvlinks || link.pcie ? json(link_label(link)) : json(nullptr)}});
    }
  }
  return links;
}

json warnings_json(const Machine& machine, const Decision& decision, const SelectionOptions& options) {
  static const char* kNames[] = {"low_free_memory", "not_idle", "type_fallback"};
  json warnings = json::array();
  for (const auto& warning : decision.warnings) {
    warnings.push_back({{"kind", kNames[static_cast<int>(warning.kind)]},
                        {"index", warning.index},
                        {"message", format_warning(machine.gpus[warning.index], warning, options)}});
  }
  return warnings;
}

}  // namespace

const char* filter_name(Filter filter) { return info(filter).name; }

std::string render_decision_json(const Machine& machine, const Decision& decision, const SelectionOptions& options,
                                 const CudaEnvironment* env, const std::vector<std::string>& command,
                                 const Binding* binding, const ClaimsPlace& place, const Error* command_problem) {
  json bind = nullptr;
  if (binding) {
    bind = {{"cpus", binding->problem.empty() ? json(binding->cpus.to_string()) : json(nullptr)},
            {"memory_nodes", binding->memory_nodes},
            {"problem", binding->problem.empty() ? json(nullptr) : json(binding->problem)}};
  }
  json environment = nullptr;
  if (env) {
    environment = {{"CUDA_VISIBLE_DEVICES", env->visible_devices}};
    if (env->device_order) environment["CUDA_DEVICE_ORDER"] = *env->device_order;
  }
  json out = {{"schema_version", kDecisionSchemaVersion},
              {"would_run", decision.ok && env != nullptr},
              {"command", command},
              {"command_problem", command_problem ? json(command_problem->message) : json(nullptr)},
              {"needed", decision.needed},
              {"eligible", decision.eligible_count},
              {"chosen", decision.ok ? json(decision.chosen) : json::array()},
              {"environment", environment},
              {"id_format", env ? json(env->format == IdFormat::uuid ? "uuid" : "index") : json(nullptr)},
              {"sample_window_ms", options.sample_window_ms},
              {"gpus", gpus_json(machine, decision)},
              {"warnings", warnings_json(machine, decision, options)},
              {"topology", options.topology == TopologyUse::prefer ? "prefer" : "ignore"},
              {"chosen_links", chosen_links_json(machine, decision)},
              {"binding", bind},
              {"lock_dir", claims_place_json(place)}};
  // Defence in depth: text that is not UTF-8 is replaced, never a crash.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace wg
