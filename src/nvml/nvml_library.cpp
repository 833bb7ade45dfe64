#include "nvml/nvml_library.hpp"

#include <dlfcn.h>

namespace wg {
namespace {

template <class Fn>
void bind(void* handle, Fn& slot, const char* versioned, const char* fallback = nullptr) {
  void* symbol = dlsym(handle, versioned);
  if (!symbol && fallback) symbol = dlsym(handle, fallback);
  slot = reinterpret_cast<Fn>(symbol);
}

void bind_all(void* handle, NvmlApi& api) {
  bind(handle, api.init, "nvmlInit_v2", "nvmlInit");
  bind(handle, api.shutdown, "nvmlShutdown");
  bind(handle, api.error_string, "nvmlErrorString");
  bind(handle, api.get_count, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
  bind(handle, api.get_handle, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
  bind(handle, api.get_memory, "nvmlDeviceGetMemoryInfo");
  bind(handle, api.get_memory_v2, "nvmlDeviceGetMemoryInfo_v2");
  bind(handle, api.processes_v3, "nvmlDeviceGetComputeRunningProcesses_v3");
  bind(handle, api.processes_v2, "nvmlDeviceGetComputeRunningProcesses_v2");
  bind(handle, api.processes_v1, "nvmlDeviceGetComputeRunningProcesses");
  bind(handle, api.get_uuid, "nvmlDeviceGetUUID");
  bind(handle, api.get_name, "nvmlDeviceGetName");
  bind(handle, api.get_minor_number, "nvmlDeviceGetMinorNumber");
  bind(handle, api.get_pci_v3, "nvmlDeviceGetPciInfo_v3");
  bind(handle, api.get_pci_v2, "nvmlDeviceGetPciInfo_v2");
  bind(handle, api.get_pci_v1, "nvmlDeviceGetPciInfo");
  bind(handle, api.get_utilization, "nvmlDeviceGetUtilizationRates");
  bind(handle, api.get_temperature, "nvmlDeviceGetTemperature");
  bind(handle, api.get_power, "nvmlDeviceGetPowerUsage");
  bind(handle, api.get_power_limit, "nvmlDeviceGetEnforcedPowerLimit");
  bind(handle, api.get_samples, "nvmlDeviceGetSamples");
  bind(handle, api.get_cpu_affinity, "nvmlDeviceGetCpuAffinity");
  bind(handle, api.get_memory_affinity, "nvmlDeviceGetMemoryAffinity");
  bind(handle, api.get_common_ancestor, "nvmlDeviceGetTopologyCommonAncestor");
  bind(handle, api.get_nvlink_state, "nvmlDeviceGetNvLinkState");
  bind(handle, api.get_nvlink_remote_pci, "nvmlDeviceGetNvLinkRemotePciInfo_v2");
  bind(handle, api.get_mig_mode, "nvmlDeviceGetMigMode");
  bind(handle, api.get_max_mig_count, "nvmlDeviceGetMaxMigDeviceCount");
  bind(handle, api.get_mig_handle, "nvmlDeviceGetMigDeviceHandleByIndex");
  bind(handle, api.get_mig_parent, "nvmlDeviceGetDeviceHandleFromMigDeviceHandle");
  bind(handle, api.is_mig_handle, "nvmlDeviceIsMigDeviceHandle");
  bind(handle, api.get_gpu_instance_id, "nvmlDeviceGetGpuInstanceId");
  bind(handle, api.get_compute_instance_id, "nvmlDeviceGetComputeInstanceId");
  bind(handle, api.get_attributes_v2, "nvmlDeviceGetAttributes_v2");
  bind(handle, api.get_driver_version, "nvmlSystemGetDriverVersion");
  bind(handle, api.get_nvml_version, "nvmlSystemGetNVMLVersion");
  bind(handle, api.get_cuda_driver_version, "nvmlSystemGetCudaDriverVersion_v2",
       "nvmlSystemGetCudaDriverVersion");
}

Error unavailable(std::string message) {
  return Error{ErrorKind::nvml_unavailable, std::move(message), {}};
}

// One sentence per way NVML can be missing: what is wrong, then what to check.
Error init_failure(nvmlReturn_t code, const std::string& text) {
  switch (code) {
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return unavailable("the NVIDIA kernel driver is not loaded (NVML: " + text +
                         "); check that `nvidia-smi` works and the nvidia module is loaded");
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH:
      return unavailable("the NVIDIA driver library and kernel module versions differ (NVML: " + text +
                         "); this follows a driver upgrade without a reboot: reboot or reload the nvidia module");
    case NVML_ERROR_NO_PERMISSION:
      return unavailable("no permission to use the NVIDIA devices (NVML: " + text +
                         "); check the permissions of /dev/nvidia*");
    default:
      return unavailable("NVML failed to initialise (" + text + "); check that `nvidia-smi` works");
  }
}

}  // namespace

Result<std::unique_ptr<NvmlLibrary>> NvmlLibrary::open(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return unavailable("cannot load the NVIDIA driver library " + path + " (" + (why ? why : "unknown error") +
                       "); install the NVIDIA driver, or set WITH_GPU_NVML_LIBRARY to libnvidia-ml.so.1's path");
  }
  std::unique_ptr<NvmlLibrary> library(new NvmlLibrary(handle, path));
  bind_all(handle, library->api_);
  const NvmlApi& api = library->api_;
  if (!api.init || !api.get_count || !api.get_handle || !(api.get_memory || api.get_memory_v2)) {
    return unavailable(path + " is not a usable NVML library (required symbols are missing); "
                       "check WITH_GPU_NVML_LIBRARY and the NVIDIA driver installation");
  }
  nvmlReturn_t code = api.init();
  if (code != NVML_SUCCESS) return init_failure(code, library->describe(code));
  library->initialised_ = true;
  return library;
}

NvmlLibrary::~NvmlLibrary() {
  if (initialised_ && api_.shutdown) api_.shutdown();
  dlclose(handle_);
}

std::string NvmlLibrary::describe(nvmlReturn_t code) const {
  const char* text = api_.error_string ? api_.error_string(code) : nullptr;
  return text ? text : "NVML error " + std::to_string(code);
}

}  // namespace wg
