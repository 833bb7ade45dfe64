// libFuzzer target: what with-gpu prints about its settings (--show-config, --help) with
// arbitrary values from the flags, WITH_GPU_LOCK_DIR and a config file: long, empty and
// non-ASCII ones included. No output path may throw or abort.
//
// Input, one item a line: line 1's first byte is a mode (bit 0: WITH_GPU_LOCK_DIR is
// line 2; bit 1: a config file with [defaults] lock_dir = line 3 and [profiles.p]
// gpu_type = line 4; bit 2: WITH_GPU_PROFILE=p); lines 5 on are arguments.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "cli/options.hpp"

namespace {

// A TOML basic string holding `text` byte for byte (the reader refuses non-ASCII).
std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// One file per fuzzing process, removed when it exits.
const std::string& config_path() {
  static const std::string path = "/tmp/with-gpu-fuzz-show-config-" + std::to_string(getpid()) + ".toml";
  static const bool removed_at_exit = std::atexit([] { std::remove(path.c_str()); }) == 0;
  (void)removed_at_exit;
  return path;
}

// Parses `args` (argv[0] first); a lock dir that comes out must be absolute.
void parse(const std::vector<std::string>& args, const wg::SettingSources& sources) {
  auto options = wg::parse_options(args, sources);
  if (!options) return;
  if (options->lock_dir && (options->lock_dir->empty() || options->lock_dir->front() != '/')) __builtin_trap();
  if (options->action == wg::Action::print_text && options->text.empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  std::string mode, env_lock_dir, file_lock_dir, file_gpu_type, line;
  std::getline(lines, mode);
  std::getline(lines, env_lock_dir);
  std::getline(lines, file_lock_dir);
  std::getline(lines, file_gpu_type);
  std::vector<std::string> rest;
  while (std::getline(lines, line) && rest.size() < 32) rest.push_back(line);

  unsigned bits = mode.empty() ? 0 : static_cast<unsigned char>(mode[0]);
  wg::SettingSources sources;
  sources.system_config = "/nonexistent/with-gpu.toml";
  sources.current_dir = "/fuzz/cwd";
  if (bits & 1) sources.lock_dir = env_lock_dir;
  if (bits & 2) {
    if (std::FILE* file = std::fopen(config_path().c_str(), "w")) {
      std::string text = "[defaults]\nlock_dir = " + toml_string(file_lock_dir) + "\n[profiles.p]\ngpu_type = " +
                         toml_string(file_gpu_type) + "\n";
      std::fwrite(text.data(), 1, text.size(), file);
      std::fclose(file);
      sources.user_config = config_path();
    }
  }
  if (bits & 4) sources.profile = "p";

  for (const char* first : {"", "--show-config", "--help"}) {
    std::vector<std::string> args = {"with-gpu"};
    if (*first) args.emplace_back(first);
    args.insert(args.end(), rest.begin(), rest.end());
    parse(args, sources);
  }
  return 0;
}
