#pragma once
// A Jupyter kernelspec (kernel.json) that starts the kernel through with-gpu.

#include <string>
#include <vector>

namespace wg {

// kernel.json for `argv` (Jupyter replaces "{connection_file}" in it), shown as `display_name`.
std::string render_kernelspec(const std::vector<std::string>& argv, const std::string& display_name);

}  // namespace wg
