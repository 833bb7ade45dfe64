#include "core/selector.hpp"

#include <algorithm>
#include <limits>

#include "core/text.hpp"

namespace wg {
namespace {

bool contains(const std::vector<unsigned>& list, unsigned value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Local: one of its CPUs is one with-gpu may run on (all of them when that is unknown).
bool is_local(const Gpu& gpu, const SelectionOptions& options) {
  if (!gpu.local_cpus) return false;
  return !options.allowed_cpus || is_local_to(gpu, *options.allowed_cpus);
}

bool prefers_local(const SelectionOptions& options) {
  return options.numa == Locality::prefer && options.cpus_restricted;
}

void add_numa_reason(const Gpu& gpu, const SelectionOptions& options, std::vector<Reason>& reasons) {
  if (options.numa != Locality::require) return;
  if (!gpu.local_cpus) {
    reasons.push_back({Filter::numa_unknown, 0, 0, {}});
  } else if (!is_local(gpu, options)) {
    reasons.push_back({Filter::numa, double(gpu.numa_node.value_or(-1)), 0, gpu.local_cpus->to_string()});
  }
}

Reason claim_reason(const Gpu& gpu, const ClaimHolder& holder) {
  if (holder.mode == ClaimMode::exclusive) return {Filter::claimed, double(holder.pid), 0, describe_holder(holder)};
  return {Filter::shared, double(holder.pid), double(gpu.claims.size()), describe_holder(holder)};
}

Basis how(const Reading& reading) { return reading.averaged ? Basis::average : Basis::instant; }

void add_util_reason(const Gpu& gpu, const SelectionOptions& options, std::vector<Reason>& reasons) {
  if (!options.max_util_percent) return;
  auto util = utilization_reading(gpu);
  if (!util) {
    reasons.push_back({Filter::util_unknown, 0, double(*options.max_util_percent), {}});
  } else if (util->value > *options.max_util_percent) {
    reasons.push_back({Filter::max_util, util->value, double(*options.max_util_percent), {}, how(*util)});
  }
}

void add_temp_reason(const Gpu& gpu, const SelectionOptions& options, std::vector<Reason>& reasons) {
  if (!options.max_temp_c) return;
  if (!gpu.temperature_c) {
    reasons.push_back({Filter::temp_unknown, 0, double(*options.max_temp_c), {}});
  } else if (*gpu.temperature_c > *options.max_temp_c) {
    reasons.push_back({Filter::max_temp, double(*gpu.temperature_c), double(*options.max_temp_c), {}});
  } else if (auto cooling = options.cooling_ms.find(gpu.index); cooling != options.cooling_ms.end()) {
    reasons.push_back({Filter::cooling, double(cooling->second), double(options.sample_window_ms), {}});
  }
}

void add_power_reason(const Gpu& gpu, const SelectionOptions& options, std::vector<Reason>& reasons) {
  if (!options.max_power_w && !options.max_power_fraction) return;
  auto power = power_reading(gpu);
  std::optional<double> limit = options.max_power_w;
  if (options.max_power_fraction && gpu.power_limit_w) limit = *options.max_power_fraction * *gpu.power_limit_w;
  if (!power || !limit) {
    Basis missing = power ? Basis::missing_limit : Basis::missing_draw;
    reasons.push_back({Filter::power_unknown, 0, limit.value_or(0), {}, missing});
  } else if (power->value > *limit) {
    reasons.push_back({Filter::max_power, power->value, *limit, {}, how(*power)});
  }
}

void add_sensor_reasons(const Gpu& gpu, const SelectionOptions& options, std::vector<Reason>& reasons) {
  add_util_reason(gpu, options, reasons);
  add_temp_reason(gpu, options, reasons);
  add_power_reason(gpu, options, reasons);
}

// The launch needs more than one device, so a MIG instance (which a CUDA process only
// ever uses alone) cannot be part of it.
bool needs_several(const SelectionOptions& options) {
  return options.manual ? options.manual->size() >= 2 : options.min_gpus >= 2;
}

double instance_count(const Machine& machine, const Gpu& parent) {
  return double(std::count_if(machine.gpus.begin(), machine.gpus.end(), [&](const Gpu& gpu) {
    return gpu.mig && gpu.mig->parent_index == parent.index;
  }));
}

// Why a device cannot be what this launch asks for, whatever its readings: a GPU in MIG
// mode, an instance where several devices are needed, another profile than --mig-profile.
std::optional<Reason> mig_reason(const Machine& machine, const Gpu& gpu, const SelectionOptions& options) {
  if (gpu.split_by_mig()) return Reason{Filter::mig_split, instance_count(machine, gpu), 0, {}};
  if (gpu.mig && options.whole_gpus_only) return Reason{Filter::mig_single, -1, 0, {}};
  if (gpu.mig && needs_several(options)) {
    double asked = options.manual ? double(options.manual->size()) : double(options.min_gpus);
    return Reason{Filter::mig_single, asked, 0, {}};
  }
  if (options.mig_profile && (!gpu.mig || lowercase(gpu.mig->profile) != lowercase(*options.mig_profile))) {
    return Reason{Filter::mig_profile, 0, 0, *options.mig_profile};
  }
  return std::nullopt;
}

// Every filter the GPU fails. An inaccessible, unusable or unallocated GPU, or one that
// MIG rules out, gets that reason alone: its readings are meaningless or irrelevant.
std::vector<Reason> reasons_against(const Machine& machine, const Gpu& gpu, const SelectionOptions& options) {
  if (!gpu.accessible()) return {{Filter::no_access, 0, 0, {}}};
  if (!gpu.usable()) return {{Filter::unusable, 0, 0, *gpu.error}};
  if (options.allocation && !contains(*options.allocation, gpu.index)) {
    return {{Filter::not_allocated, 0, 0, {}}};
  }
  if (auto mig = mig_reason(machine, gpu, options)) return {*mig};
  if (gpu.lock_problem) return {{Filter::lock_file, 0, 0, gpu.lock_problem->path}};
  std::vector<Reason> reasons;
  if (const ClaimHolder* holder = blocking_holder(gpu, options.claim_mode)) {
    reasons.push_back(claim_reason(gpu, *holder));
  } else if (const ClaimHolder* whole = gpu.mig ? blocking_holder(machine.gpus.at(gpu.mig->parent_index),
                                                                   options.claim_mode)
                                                 : nullptr) {
    // A claim on the whole GPU (taken before its MIG mode changed, or by a with-gpu that
    // knows no MIG) covers every instance of it.
    reasons.push_back(claim_reason(machine.gpus.at(gpu.mig->parent_index), *whole));
  }
  if (auto held = options.queued.find(gpu.index); held != options.queued.end()) {
    reasons.push_back({Filter::queued, double(held->second.pid), double(held->second.place), held->second.user});
  }
  if (has_suspected_hidden_usage(gpu)) {
    reasons.push_back({Filter::hidden_usage, double(*hidden_usage_bytes(gpu)), double(kHiddenUsageAboveBytes), {}});
  }
  if (options.min_free_bytes > 0 && !gpu.memory_free_bytes) {
    reasons.push_back({Filter::memory_unknown, 0, double(options.min_free_bytes), {}});
  } else if (options.min_free_bytes > 0 && *gpu.memory_free_bytes < options.min_free_bytes) {
    reasons.push_back({Filter::min_memory, double(*gpu.memory_free_bytes), double(options.min_free_bytes), {}});
  }
  add_sensor_reasons(gpu, options, reasons);
  if (options.idle == IdleRequirement::idle_only && !is_idle(gpu)) {
    auto count = process_count(gpu);
    reasons.push_back({Filter::not_idle, count ? double(*count) : -1.0, 0, {}});
  }
  if (options.type_fallback == TypeFallback::strict && !options.manual && !matches_type(gpu, options)) {
    reasons.push_back({Filter::gpu_type, 0, 0, *options.gpu_type});
  }
  add_numa_reason(gpu, options, reasons);
  return reasons;
}

// Ranking among MIG instances: the smallest that passes (total memory, unknown last, then
// fewer slices), so that larger instances stay free for jobs that need them; then most free
// memory, then index.
bool instance_ranks_before(const Gpu& a, const Gpu& b) {
  if (a.memory_total_bytes != b.memory_total_bytes) {
    if (!a.memory_total_bytes || !b.memory_total_bytes) return a.memory_total_bytes.has_value();
    return *a.memory_total_bytes < *b.memory_total_bytes;
  }
  if (a.mig->gpu_slices != b.mig->gpu_slices) return a.mig->gpu_slices < b.mig->gpu_slices;
  if (a.memory_free_bytes != b.memory_free_bytes) return a.memory_free_bytes > b.memory_free_bytes;
  return a.index < b.index;
}

// Ranking within a preference group: most free memory (unknown last), then fewest
// processes (unknown counts last), then index. Instances rank among themselves.
bool ranks_before(const Gpu& a, const Gpu& b) {
  if (a.mig && b.mig) return instance_ranks_before(a, b);
  // An empty optional compares below every value.
  if (a.memory_free_bytes != b.memory_free_bytes) return a.memory_free_bytes > b.memory_free_bytes;
  auto unknown = std::numeric_limits<std::size_t>::max();
  auto pa = process_count(a).value_or(unknown);
  auto pb = process_count(b).value_or(unknown);
  if (pa != pb) return pa < pb;
  return a.index < b.index;
}

// How far down the preference groups a GPU is: type matches, then idle, then MIG instances
// before whole GPUs (which stay free for jobs that need a whole one), then local GPUs.
int preference_group(const Gpu& gpu, const SelectionOptions& options) {
  return (matches_type(gpu, options) ? 0 : 8) + (tier_of(gpu) == Tier::idle ? 0 : 4) + (gpu.mig ? 0 : 2) +
         (prefers_local(options) && !is_local(gpu, options) ? 1 : 0);
}

std::vector<unsigned> ranked_eligible(const Machine& machine, const Decision& decision,
                                      const SelectionOptions& options) {
  std::vector<unsigned> eligible;
  for (const auto& verdict : decision.verdicts) {
    if (verdict.reasons.empty()) eligible.push_back(verdict.index);
  }
  // Preference groups first (type matches, then idle GPUs, then GPUs local to our CPUs),
  // rank order within each group. Groups are worked out once per GPU, not per comparison.
  std::vector<int> group(machine.gpus.size(), 0);
  for (unsigned index : eligible) group[index] = preference_group(machine.gpus[index], options);
  std::sort(eligible.begin(), eligible.end(), [&](unsigned a, unsigned b) {
    if (group[a] != group[b]) return group[a] < group[b];
    return ranks_before(machine.gpus[a], machine.gpus[b]);
  });
  return eligible;
}

// Several GPUs: those of better preference groups than the last one needed are taken;
// the rest come from that group as the best-connected set. So a set is as good as its
// worst group, and a better-connected set of a worse group never wins.
std::vector<unsigned> pick_set(const Machine& machine, const std::vector<unsigned>& ranked, std::size_t take,
                               const SelectionOptions& options) {
  int last = preference_group(machine.gpus[ranked[take - 1]], options);
  std::vector<unsigned> required;
  std::vector<unsigned> candidates;
  for (unsigned index : ranked) {
    int group = preference_group(machine.gpus[index], options);
    if (group < last) required.push_back(index);
    if (group == last) candidates.push_back(index);
  }
  return choose_set(machine, required, candidates, take);
}

std::vector<unsigned> whole_gpus(const Machine& machine, const std::vector<unsigned>& ranked) {
  std::vector<unsigned> whole;
  for (unsigned index : ranked) {
    if (!machine.gpus[index].mig) whole.push_back(index);
  }
  return whole;
}

std::vector<unsigned> pick_whole(const Machine& machine, const std::vector<unsigned>& ranked, std::size_t take,
                                 const SelectionOptions& options) {
  if (take >= 2 && options.topology == TopologyUse::prefer && !machine.links.empty()) {
    return pick_set(machine, ranked, take, options);
  }
  return {ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(take)};
}

std::vector<unsigned> pick(const Machine& machine, const Decision& decision, const std::vector<unsigned>& ranked,
                           const SelectionOptions& options) {
  if (options.manual) {
    for (unsigned index : *options.manual) {
      if (!decision.verdicts[index].reasons.empty()) return {};
    }
    return *options.manual;
  }
  if (ranked.size() < options.min_gpus) return {};
  auto take = std::min<std::size_t>(ranked.size(), std::max(options.min_gpus, options.max_gpus));
  if (take >= 2) {
    // Several devices are never instances (they are candidates only when one device is
    // enough): whole GPUs, unless only an instance is of the best type and tier, which then
    // goes alone, as a better type or tier is never traded for more devices.
    auto whole = whole_gpus(machine, ranked);
    auto type_and_tier = [&](unsigned index) { return preference_group(machine.gpus[index], options) / 4; };
    if (whole.empty() || type_and_tier(whole.front()) > type_and_tier(ranked.front())) return {ranked.front()};
    return pick_whole(machine, whole, std::min(take, whole.size()), options);
  }
  return {ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(take)};
}

void add_warnings(const Machine& machine, Decision& decision) {
  for (unsigned index : decision.chosen) {
    const Gpu& gpu = machine.gpus[index];
    if (gpu.memory_free_bytes && *gpu.memory_free_bytes < kLowFreeWarningBytes) {
      decision.warnings.push_back({Warning::low_free_memory, index});
    }
    if (!is_idle(gpu)) decision.warnings.push_back({Warning::not_idle, index});
    if (!decision.verdicts[index].type_match) decision.warnings.push_back({Warning::type_fallback, index});
  }
}

}  // namespace

bool held_by_claim(const GpuVerdict& verdict) {
  return std::any_of(verdict.reasons.begin(), verdict.reasons.end(), [](const Reason& reason) {
    return reason.filter == Filter::claimed || reason.filter == Filter::shared;
  });
}

bool matches_type(const Gpu& gpu, const SelectionOptions& options) {
  return !options.gpu_type || lowercase(gpu.name).find(lowercase(*options.gpu_type)) != std::string::npos;
}

bool is_local_to(const Gpu& gpu, const CpuSet& cpus) { return gpu.local_cpus && gpu.local_cpus->intersects(cpus); }

// The not_idle warning's own test, so that a busy tier and the warning always agree.
Tier tier_of(const Gpu& gpu) { return is_idle(gpu) ? Tier::idle : Tier::busy; }

Decision select_gpus(const Machine& machine, const SelectionOptions& options) {
  Decision decision;
  for (const auto& gpu : machine.gpus) {
    decision.verdicts.push_back({gpu.index, Verdict::rejected, reasons_against(machine, gpu, options),
                                 matches_type(gpu, options), tier_of(gpu)});
  }
  auto ranked = ranked_eligible(machine, decision, options);
  decision.eligible_count = static_cast<unsigned>(ranked.size());
  if (options.manual) {
    decision.eligible_count = static_cast<unsigned>(std::count_if(
        options.manual->begin(), options.manual->end(), [&](unsigned index) { return decision.verdicts[index].reasons.empty(); }));
  }
  decision.needed = options.manual ? static_cast<unsigned>(options.manual->size()) : options.min_gpus;
  decision.chosen = pick(machine, decision, ranked, options);
  decision.ok = !decision.chosen.empty();
  for (auto& verdict : decision.verdicts) {
    if (verdict.reasons.empty()) {
      verdict.verdict = contains(decision.chosen, verdict.index) ? Verdict::chosen : Verdict::eligible;
    }
  }
  add_warnings(machine, decision);
  return decision;
}

bool ruled_out_by_mig(Filter filter) {
  return filter == Filter::mig_split || filter == Filter::mig_single || filter == Filter::mig_profile;
}

bool mig_leaves_enough(const Decision& decision) {
  auto possible = std::count_if(decision.verdicts.begin(), decision.verdicts.end(), [](const GpuVerdict& verdict) {
    return verdict.reasons.empty() || !std::all_of(verdict.reasons.begin(), verdict.reasons.end(),
                                                   [](const Reason& reason) { return ruled_out_by_mig(reason.filter); });
  });
  return static_cast<unsigned>(possible) >= decision.needed;
}

}  // namespace wg
