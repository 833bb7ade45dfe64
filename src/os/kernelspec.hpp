#pragma once
// Where a Jupyter kernel for with-gpu goes and what it runs: Jupyter's user data
// directory, this very with-gpu binary and the python3 found in PATH.

#include <string>

#include "core/result.hpp"

namespace wg {

struct KernelPaths {
  std::string dir;       // $JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter; + kernels/NAME
  std::string with_gpu;  // this binary, absolute (/proc/self/exe)
  std::string python;    // sys.executable of the python3 PATH finds now, which imports ipykernel
};

// The paths for kernel NAME, or what is missing (no HOME, no python3 in PATH).
Result<KernelPaths> kernel_paths(const std::string& name);

// Makes `dir` (and its parents) and writes `text` to dir/kernel.json, replacing it.
Result<Ok> write_kernel_json(const std::string& dir, const std::string& text);

}  // namespace wg
