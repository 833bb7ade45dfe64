#include "os/kernelspec.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wg {
namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string jupyter_data_dir() {
  if (auto dir = env_or_empty("JUPYTER_DATA_DIR"); !dir.empty()) return dir;
  if (auto xdg = env_or_empty("XDG_DATA_HOME"); !xdg.empty()) return xdg + "/jupyter";
  if (auto home = env_or_empty("HOME"); !home.empty()) return home + "/.local/share/jupyter";
  return "";
}

std::string find_in_path(const std::string& program) {
  std::istringstream path(env_or_empty("PATH"));
  std::string dir;
  while (std::getline(path, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return std::filesystem::absolute(candidate).lexically_normal().string();
  }
  return "";
}

Error kernel_error(const std::string& message) { return Error{ErrorKind::usage, message, {}}; }

}  // namespace

Result<KernelPaths> kernel_paths(const std::string& name) {
  KernelPaths paths;
  std::string data = jupyter_data_dir();
  if (data.empty()) return kernel_error("--install-kernel: set HOME or JUPYTER_DATA_DIR to say where Jupyter looks");
  paths.dir = data + "/kernels/" + name;
  std::error_code error;
  paths.with_gpu = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) return kernel_error("--install-kernel: cannot tell where this with-gpu is: " + error.message());
  paths.python = find_in_path("python3");
  if (paths.python.empty()) {
    return kernel_error("--install-kernel: no python3 in PATH; activate the environment the kernel should use "
                        "(it needs ipykernel) and run it again");
  }
  return paths;
}

Result<Ok> write_kernel_json(const std::string& dir, const std::string& text) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Error{ErrorKind::internal, "cannot make " + dir + ": " + error.message(), {}};
  std::string path = dir + "/kernel.json";
  std::ofstream file(path, std::ios::trunc);
  file << text;
  file.close();
  if (!file) return Error{ErrorKind::internal, "cannot write " + path + ": " + std::strerror(errno), {}};
  return Ok{};
}

}  // namespace wg
