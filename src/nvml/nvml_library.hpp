#pragma once
// The NVIDIA driver's NVML library, loaded with dlopen at run time and never linked,
// so the binary runs (and fails with one clear sentence) on machines without it.

#include <memory>
#include <string>

#include "core/result.hpp"
#include "nvml/nvml_abi.hpp"

namespace wg {

// Entry points, resolved once. Required ones are never null after load(); optional
// ones are null when the driver is too old to export them.
struct NvmlApi {
  nvmlInit_fn init = nullptr;
  nvmlShutdown_fn shutdown = nullptr;
  nvmlErrorString_fn error_string = nullptr;
  nvmlDeviceGetCount_fn get_count = nullptr;
  nvmlDeviceGetHandleByIndex_fn get_handle = nullptr;
  nvmlDeviceGetMemoryInfo_fn get_memory = nullptr;
  nvmlDeviceGetMemoryInfo_v2_fn get_memory_v2 = nullptr;
  nvmlDeviceGetComputeRunningProcesses_fn processes_v3 = nullptr;
  nvmlDeviceGetComputeRunningProcesses_fn processes_v2 = nullptr;
  nvmlDeviceGetComputeRunningProcesses_fn processes_v1 = nullptr;
  nvmlDeviceGetUUID_fn get_uuid = nullptr;
  nvmlDeviceGetName_fn get_name = nullptr;
  nvmlDeviceGetMinorNumber_fn get_minor_number = nullptr;
  nvmlDeviceGetPciInfo_fn get_pci_v3 = nullptr;  // nvmlPciInfo_t
  nvmlDeviceGetPciInfo_fn get_pci_v2 = nullptr;  // nvmlPciInfo_t
  nvmlDeviceGetPciInfo_fn get_pci_v1 = nullptr;  // nvmlPciInfo_v1_t
  nvmlDeviceGetUtilizationRates_fn get_utilization = nullptr;
  nvmlDeviceGetTemperature_fn get_temperature = nullptr;
  nvmlDeviceGetPowerUsage_fn get_power = nullptr;
  nvmlDeviceGetEnforcedPowerLimit_fn get_power_limit = nullptr;
  nvmlDeviceGetSamples_fn get_samples = nullptr;
  nvmlDeviceGetCpuAffinity_fn get_cpu_affinity = nullptr;
  nvmlDeviceGetMemoryAffinity_fn get_memory_affinity = nullptr;
  nvmlDeviceGetTopologyCommonAncestor_fn get_common_ancestor = nullptr;
  nvmlDeviceGetNvLinkState_fn get_nvlink_state = nullptr;
  nvmlDeviceGetNvLinkRemotePciInfo_fn get_nvlink_remote_pci = nullptr;  // nvmlPciInfo_t
  // MIG: all null on a driver before R450, whose GPUs then simply have no MIG.
  nvmlDeviceGetMigMode_fn get_mig_mode = nullptr;
  nvmlDeviceGetMaxMigDeviceCount_fn get_max_mig_count = nullptr;
  nvmlDeviceGetMigDeviceHandleByIndex_fn get_mig_handle = nullptr;
  nvmlDeviceGetDeviceHandleFromMigDeviceHandle_fn get_mig_parent = nullptr;
  nvmlDeviceIsMigDeviceHandle_fn is_mig_handle = nullptr;
  nvmlDeviceGetInstanceId_fn get_gpu_instance_id = nullptr;
  nvmlDeviceGetInstanceId_fn get_compute_instance_id = nullptr;
  nvmlDeviceGetAttributes_fn get_attributes_v2 = nullptr;
  nvmlSystemGetDriverVersion_fn get_driver_version = nullptr;
  nvmlSystemGetNVMLVersion_fn get_nvml_version = nullptr;
  nvmlSystemGetCudaDriverVersion_fn get_cuda_driver_version = nullptr;
};

// An initialised NVML: dlopen handle plus nvmlInit; shut down and closed on destruction.
class NvmlLibrary {
 public:
  // Loads `path` (or libnvidia-ml.so.1) and initialises NVML. Errors are of kind
  // nvml_unavailable and say what is wrong and what to check.
  [[nodiscard]] static Result<std::unique_ptr<NvmlLibrary>> open(const std::string& path);

  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;
  ~NvmlLibrary();

  const NvmlApi& api() const { return api_; }
  const std::string& path() const { return path_; }
  // NVML's text for a return code, e.g. "GPU is lost".
  std::string describe(nvmlReturn_t code) const;

 private:
  NvmlLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  void* handle_;
  std::string path_;
  NvmlApi api_;
  bool initialised_ = false;
};

// The default library name (the driver's versioned soname).
inline constexpr const char* kDefaultNvmlLibrary = "libnvidia-ml.so.1";

}  // namespace wg
