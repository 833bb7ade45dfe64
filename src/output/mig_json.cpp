#include "output/mig_json.hpp"

namespace wg {
namespace {

const char* mode_name(MigMode mode) { return mode == MigMode::enabled ? "enabled" : "disabled"; }

}  // namespace

nlohmann::json mig_mode_json(const Gpu& gpu) {
  if (!gpu.mig_modes || gpu.mig) return nullptr;
  return {{"current", mode_name(gpu.mig_modes->current)}, {"pending", mode_name(gpu.mig_modes->pending)}};
}

nlohmann::json mig_json(const Gpu& gpu) {
  if (!gpu.mig) return nullptr;
  const MigInstance& mig = *gpu.mig;
  return {{"parent_uuid", mig.parent_uuid},
          {"parent_index", mig.parent_index},
          {"profile", mig.profile},
          {"gpu_instance_id", mig.gpu_instance_id},
          {"compute_instance_id", mig.compute_instance_id},
          {"gpu_slices", mig.gpu_slices},
          {"compute_slices", mig.compute_slices},
          {"device", mig.device}};
}

}  // namespace wg
