#include "core/gpu_list.hpp"

#include <algorithm>
#include <set>

#include "core/text.hpp"
#include "core/units.hpp"

namespace wg {
namespace {

// "this machine has 2 GPUs; see with-gpu --status" (no pointer to --status when it would list nothing).
std::string gpu_count(const Machine& machine) {
  std::size_t count = whole_gpu_count(machine);
  if (count == 0) return "this machine has no GPUs";
  return "this machine has " + std::to_string(count) + (count == 1 ? " GPU" : " GPUs") + "; see with-gpu --status";
}

// "this machine has 3 MIG instances; see with-gpu --status", for a MIG- entry that names none.
std::string instance_count(const Machine& machine) {
  if (machine.gpus.empty()) return "this machine has no GPUs";
  std::size_t count = machine.gpus.size() - whole_gpu_count(machine);
  if (count == 0) return "this machine has no MIG instances; see with-gpu --status";
  return "this machine has " + std::to_string(count) + (count == 1 ? " MIG instance" : " MIG instances") +
         "; see with-gpu --status";
}

// The pre-R470 name of an instance, MIG-GPU-<parent uuid>/<gi>/<ci>, taken apart.
struct LegacyMigName {
  std::string parent;  // "GPU-...", possibly a prefix
  unsigned gpu_instance_id = 0;
  unsigned compute_instance_id = 0;
};

std::optional<LegacyMigName> parse_legacy_mig_name(std::string_view text) {
  if (!starts_with_nocase(text, "MIG-GPU-")) return std::nullopt;
  text.remove_prefix(4);
  auto second = text.rfind('/');
  if (second == std::string_view::npos || second == 0) return std::nullopt;
  auto first = text.rfind('/', second - 1);
  if (first == std::string_view::npos) return std::nullopt;
  auto gi = parse_unsigned(text.substr(first + 1, second - first - 1));
  auto ci = parse_unsigned(text.substr(second + 1));
  if (!gi || !ci) return std::nullopt;
  return LegacyMigName{std::string(text.substr(0, first)), *gi, *ci};
}

std::optional<unsigned> find_by_legacy_name(const Machine& machine, const LegacyMigName& name, bool* ambiguous) {
  std::optional<unsigned> found;
  for (const auto& gpu : machine.gpus) {
    if (!gpu.mig || !starts_with_nocase(gpu.mig->parent_uuid, name.parent)) continue;
    if (gpu.mig->gpu_instance_id != name.gpu_instance_id || gpu.mig->compute_instance_id != name.compute_instance_id) {
      continue;
    }
    if (found) {
      *ambiguous = true;
      return std::nullopt;
    }
    found = gpu.index;
  }
  return found;
}

// "MIG-4f2c... (3g.40gb)": how a split GPU's message names the instances to use instead.
std::string instance_names(const Machine& machine, unsigned parent) {
  std::vector<std::string> names;
  for (unsigned index : mig_instances_of(machine, parent)) {
    const Gpu& instance = machine.gpus[index];
    names.push_back(instance.uuid + " (" + instance.mig->profile + ")");
  }
  return join(names, ", ");
}

}  // namespace

Result<Ok> check_not_split(const Gpu& gpu, const Machine& machine, std::string_view source) {
  if (!gpu.split_by_mig()) return Ok{};
  std::string head = std::string(source) + ": GPU " + std::to_string(gpu.index) +
                     " is in MIG mode, so CUDA uses its MIG instances, not the whole GPU";
  if (mig_instances_of(machine, gpu.index).empty()) return usage_error(head + ", and it has none");
  return usage_error(head + "; name one of them: " + instance_names(machine, gpu.index));
}

namespace {

Result<GpuRef> parse_entry(const std::string& text, std::string_view source) {
  GpuRef ref{text, parse_unsigned(text), false};
  if (ref.number) return ref;
  if (starts_with_nocase(text, "MIG-")) {
    ref.is_mig = true;
    return ref;
  }
  if (starts_with_nocase(text, "GPU-") && text.size() > 4) return ref;
  return usage_error(std::string(source) + ": '" + text +
                     "' is not a GPU index or a GPU- UUID (e.g. 0, 0,2 or GPU-8f3a...)");
}

}  // namespace

Result<std::vector<GpuRef>> parse_gpu_list(std::string_view text, std::string_view source) {
  std::vector<GpuRef> refs;
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string entry(trim(text.substr(start, comma - start), " \t"));
    if (entry.empty()) {
      return usage_error(std::string(source) + ": empty entry in '" + std::string(text) +
                         "' (separate GPUs with single commas, e.g. 0,2)");
    }
    auto ref = parse_entry(entry, source);
    if (!ref) return ref.error();
    std::string key = ref->number ? std::to_string(*ref->number) : lowercase(entry);
    if (!seen.insert(key).second) {
      return usage_error(std::string(source) + " lists '" + entry + "' twice");
    }
    refs.push_back(*ref);
    start = comma + 1;
  }
  return refs;
}

std::size_t whole_gpu_count(const Machine& machine) {
  return static_cast<std::size_t>(
      std::count_if(machine.gpus.begin(), machine.gpus.end(), [](const Gpu& gpu) { return !gpu.mig; }));
}

std::vector<unsigned> mig_instances_of(const Machine& machine, unsigned parent) {
  std::vector<unsigned> instances;
  for (const auto& gpu : machine.gpus) {
    if (gpu.mig && gpu.mig->parent_index == parent) instances.push_back(gpu.index);
  }
  return instances;
}

std::optional<unsigned> find_mig_instance(const Machine& machine, std::string_view text, bool* ambiguous) {
  *ambiguous = false;
  std::optional<unsigned> found;
  for (const auto& gpu : machine.gpus) {
    if (!gpu.mig || gpu.uuid.empty() || !starts_with_nocase(gpu.uuid, text)) continue;
    if (found) {
      *ambiguous = true;
      return std::nullopt;
    }
    found = gpu.index;
  }
  if (found) return found;
  // Drivers before R470 name instances by their parent and ids, not by a UUID of their own.
  if (auto legacy = parse_legacy_mig_name(text)) return find_by_legacy_name(machine, *legacy, ambiguous);
  return std::nullopt;
}

std::optional<unsigned> find_by_uuid_prefix(const Machine& machine, std::string_view prefix,
                                            bool* ambiguous) {
  std::optional<unsigned> found;
  *ambiguous = false;
  for (const auto& gpu : machine.gpus) {
    if (gpu.uuid.empty() || !starts_with_nocase(gpu.uuid, prefix)) continue;
    if (found) {
      *ambiguous = true;
      return std::nullopt;
    }
    found = gpu.index;
  }
  return found;
}

Result<std::vector<unsigned>> resolve_gpu_list(const std::vector<GpuRef>& refs, const Machine& machine) {
  std::vector<unsigned> indices;
  for (const auto& ref : refs) {
    std::optional<unsigned> index;
    bool ambiguous = false;
    if (ref.is_mig) {
      index = find_mig_instance(machine, ref.text, &ambiguous);
      if (!index) {
        return usage_error("--gpu " + ref.text +
                           (ambiguous ? ": matches more than one MIG instance"
                                      : ": no such MIG instance (" + instance_count(machine) + ")"));
      }
    } else if (ref.number) {
      // Numbers are NVML indices of whole GPUs; instances have none that nvidia-smi shows.
      if (*ref.number < whole_gpu_count(machine)) index = *ref.number;
    } else {
      index = find_by_uuid_prefix(machine, ref.text, &ambiguous);
    }
    if (!index) {
      return usage_error("--gpu " + ref.text +
                         (ambiguous ? ": matches more than one GPU UUID" : ": no such GPU (" + gpu_count(machine) + ")"));
    }
    if (std::find(indices.begin(), indices.end(), *index) != indices.end()) {
      return usage_error("--gpu names " + device_label(machine.gpus[*index]) + " twice");
    }
    indices.push_back(*index);
  }
  return indices;
}

std::optional<std::pair<unsigned, unsigned>> mig_conflict(const std::vector<unsigned>& indices,
                                                          const Machine& machine) {
  if (indices.size() < 2) return std::nullopt;
  auto instance = std::find_if(indices.begin(), indices.end(), [&](unsigned index) {
    return machine.gpus.at(index).mig.has_value();
  });
  if (instance == indices.end()) return std::nullopt;
  unsigned other = *instance == indices.front() ? indices[1] : indices.front();
  return std::make_pair(*instance, other);
}

Result<Ok> check_launch_devices(const std::vector<unsigned>& indices, const Machine& machine,
                                std::string_view source) {
  for (unsigned index : indices) {
    if (auto split = check_not_split(machine.gpus.at(index), machine, source); !split) return split;
  }
  auto conflict = mig_conflict(indices, machine);
  if (!conflict) return Ok{};
  const Gpu& other = machine.gpus[conflict->second];
  return usage_error(std::string(source) + " names " + device_label(machine.gpus[conflict->first]) + " and " +
                     device_label(other) + ": a CUDA process uses one MIG instance and no other device (" +
                     (other.mig ? "never two instances" : "never an instance and a GPU") +
                     "); run one launch per instance");
}

}  // namespace wg
