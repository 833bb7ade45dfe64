// libFuzzer target: sizes, durations and numbers as users type them, and CPU lists as
// sysfs writes them (local_cpulist, cpu/online).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/cpu_set.hpp"
#include "core/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bytes = wg::parse_memory_size(text);
  auto duration = wg::parse_duration(text);
  auto number = wg::parse_unsigned(text);
  auto decimal = wg::parse_decimal(text);
  // What parses as a whole number parses as a decimal and a size of that many MiB.
  if (number && (!decimal || !bytes || *bytes != std::uint64_t(*number) * wg::kMiB)) __builtin_trap();
  if (duration && duration->count() < 0) __builtin_trap();
  // A CPU list prints in the kernel's format and reads back as the same set.
  if (auto cpus = wg::CpuSet::parse(text)) {
    auto again = wg::CpuSet::parse(cpus->to_string());
    if (!again || !(*again == *cpus) || again->count() != cpus->members().size()) __builtin_trap();
  }
  return 0;
}
