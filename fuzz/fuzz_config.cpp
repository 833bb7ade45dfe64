// libFuzzer target: config file text, through the TOML reader and the structure checks.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::map<std::string, wg::ValueKind> keys = {
      {"min_memory", wg::ValueKind::value}, {"max_util", wg::ValueKind::value}, {"wait", wg::ValueKind::boolean},
      {"lock_dir", wg::ValueKind::value},   {"max_power", wg::ValueKind::value}};
  std::string text(reinterpret_cast<const char*>(data), size);
  auto file = wg::parse_config_text(text, "fuzz.toml", keys);
  if (file) {
    for (const auto& entry : file->defaults) {
      if (!keys.count(entry.key)) __builtin_trap();
    }
  }
  return 0;
}
