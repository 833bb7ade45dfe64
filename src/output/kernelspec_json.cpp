#include "output/kernelspec_json.hpp"

#include <nlohmann/json.hpp>

namespace wg {

std::string render_kernelspec(const std::vector<std::string>& argv, const std::string& display_name) {
  nlohmann::json spec = {{"argv", argv},
                         {"display_name", display_name},
                         {"language", "python"},
                         {"metadata", {{"debugger", true}, {"with_gpu", true}}}};
  return spec.dump(1) + "\n";
}

}  // namespace wg
