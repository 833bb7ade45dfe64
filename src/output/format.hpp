#pragma once
// Human wording of quantities, reasons and warnings, shared by every text output.

#include <cstdint>
#include <optional>
#include <string>

#include "core/gpu.hpp"
#include "core/selector.hpp"

namespace wg {

// "1.2 GiB" from 1 GiB up, else "512 MiB".
std::string format_bytes(std::uint64_t bytes);

// Whole MiB, as nvidia-smi shows memory.
std::uint64_t to_mib(std::uint64_t bytes);

// The readings the sensor filters use: "util 12% avg, 61C, 210 W avg" ("now" marks an
// instantaneous value where the driver keeps no samples).
std::string readings_summary(const Gpu& gpu);

// A reason as a phrase: "1.2 GiB free < 8.0 GiB", "claimed by pid 4242".
std::string format_reason(const Gpu& gpu, const Reason& reason);

// All of a GPU's reasons joined with "; ".
std::string format_reasons(const Gpu& gpu, const std::vector<Reason>& reasons);

// A selection warning as a sentence without the "with-gpu: warning: " prefix.
std::string format_warning(const Gpu& gpu, const SelectionWarning& warning, const SelectionOptions& options);

// "n/a" for an unknown reading, else the value with its unit.
std::string or_na(const std::optional<unsigned>& value, const char* unit);

}  // namespace wg
