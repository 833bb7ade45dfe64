#include "core/gpu_list.hpp"

#include <algorithm>
#include <set>

#include "core/text.hpp"
#include "core/units.hpp"

namespace wg {
namespace {

// "this machine has 2 GPUs; see with-gpu --status" (no pointer to --status when it would list nothing).
std::string gpu_count(const Machine& machine) {
  std::size_t count = machine.gpus.size();
  if (count == 0) return "this machine has no GPUs";
  return "this machine has " + std::to_string(count) + (count == 1 ? " GPU" : " GPUs") + "; see with-gpu --status";
}

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
    if (ref.is_mig) {
      return usage_error("--gpu " + ref.text + ": MIG devices are not supported; name whole GPUs");
    }
    std::optional<unsigned> index;
    bool ambiguous = false;
    if (ref.number) {
      if (*ref.number < machine.gpus.size()) index = *ref.number;
    } else {
      index = find_by_uuid_prefix(machine, ref.text, &ambiguous);
    }
    if (!index) {
      return usage_error("--gpu " + ref.text +
                         (ambiguous ? ": matches more than one GPU UUID" : ": no such GPU (" + gpu_count(machine) + ")"));
    }
    if (std::find(indices.begin(), indices.end(), *index) != indices.end()) {
      return usage_error("--gpu names GPU " + std::to_string(*index) + " twice");
    }
    indices.push_back(*index);
  }
  return indices;
}

}  // namespace wg
