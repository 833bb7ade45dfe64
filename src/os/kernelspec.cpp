#include "os/kernelspec.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/text.hpp"

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

// sys.executable of `python` when it can import ipykernel, else empty.
std::string python_with_ipykernel(const std::string& python) {
  std::string command = "'" + python + "' -c 'import sys, ipykernel; print(sys.executable)' 2>/dev/null";
  if (python.find('\'') != std::string::npos) return "";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "";
  char line[4096] = {};
  std::string executable = fgets(line, sizeof line, pipe) ? line : "";
  if (pclose(pipe) != 0) return "";
  return std::string(trim(executable, "\r\n"));
}

}  // namespace

Result<KernelPaths> kernel_paths(const std::string& name) {
  KernelPaths paths;
  std::string data = jupyter_data_dir();
  if (data.empty()) return kernel_error("--install-kernel: set HOME or JUPYTER_DATA_DIR to say where Jupyter looks");
  paths.dir = data + "/kernels/" + name;
  std::error_code error;
  paths.with_gpu = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) return kernel_error("--install-kernel: cannot tell where this with-gpu is: " + error.message());
  std::string python = find_in_path("python3");
  if (python.empty()) {
    return kernel_error("--install-kernel: no python3 in PATH; activate the environment the kernel should use "
                        "(it needs ipykernel) and run it again");
  }
  // The interpreter itself, as `python -m ipykernel install` pins sys.executable (a pyenv
  // shim in PATH would follow whatever version is selected later), and proof that it has
  // ipykernel.
  paths.python = python_with_ipykernel(python);
  if (paths.python.empty()) {
    return kernel_error("--install-kernel: " + python + " cannot import ipykernel; install it there "
                        "(pip install ipykernel, or Debian's python3-ipykernel) and run it again");
  }
  std::ifstream existing(paths.dir + "/kernel.json");
  std::string text((std::istreambuf_iterator<char>(existing)), std::istreambuf_iterator<char>());
  if (existing.is_open() && text.find("\"with_gpu\": true") == std::string::npos) {
    return kernel_error("--install-kernel: " + paths.dir + " holds a kernel that with-gpu did not write; "
                        "choose another name (or remove it first)");
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
