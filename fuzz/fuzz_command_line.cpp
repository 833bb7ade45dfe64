// libFuzzer target: whole command lines (one argument per line) through CLI11 and every
// flag's value parser, with no config file.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cli/options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args = {"with-gpu"};
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  std::string line;
  while (std::getline(lines, line) && args.size() < 32) args.push_back(line);
  wg::SettingSources none;
  none.system_config = "/nonexistent/with-gpu.toml";
  auto options = wg::parse_options(args, none);
  if (options && options->selection.min_gpus > options->selection.max_gpus) __builtin_trap();
  return 0;
}
