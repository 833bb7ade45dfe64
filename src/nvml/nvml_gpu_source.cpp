#include "nvml/nvml_gpu_source.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/units.hpp"
#include "nvml/nvml_topology.hpp"

namespace wg {
namespace {

std::optional<std::string> read_string(nvmlReturn_t (*fn)(char*, unsigned int), unsigned size) {
  if (!fn) return std::nullopt;
  std::vector<char> buffer(size + 1, '\0');
  if (fn(buffer.data(), size) != NVML_SUCCESS) return std::nullopt;
  return std::string(buffer.data());
}

template <class Fn>
std::optional<std::string> read_device_string(Fn fn, nvmlDevice_t device, unsigned size) {
  if (!fn) return std::nullopt;
  std::vector<char> buffer(size + 1, '\0');
  if (fn(device, buffer.data(), size) != NVML_SUCCESS) return std::nullopt;
  return std::string(buffer.data());
}

// One version of the process query with the element layout it writes.
struct ProcessQuery {
  nvmlDeviceGetComputeRunningProcesses_fn fn = nullptr;
  std::size_t stride = 0;
};

class GpuReader {
 public:
  GpuReader(const NvmlLibrary& library, std::size_t v3_stride, std::chrono::milliseconds window)
      : nvml_(library), api_(library.api()), v3_stride_(v3_stride), window_(window) {}

  // Reads GPU `index`; `device` is its handle, or null when the GPU is unusable.
  Gpu read(unsigned index, nvmlDevice_t& device) {
    Gpu gpu;
    gpu.index = index;
    device = nullptr;
    if (nvmlReturn_t code = api_.get_handle(index, &device); code != NVML_SUCCESS) {
      // NO_PERMISSION is NVML's answer for a GPU whose device node this process may not
      // open (a device cgroup): not a broken GPU, one that belongs to someone else.
      if (code == NVML_ERROR_NO_PERMISSION) {
        gpu.access = DeviceAccess::denied_by_driver;
      } else {
        gpu.error = nvml_.describe(code);
      }
      device = nullptr;
      return gpu;
    }
    gpu.name = read_device_string(api_.get_name, device, NVML_DEVICE_NAME_V2_BUFFER_SIZE).value_or("");
    unsigned minor = 0;
    if (api_.get_minor_number && api_.get_minor_number(device, &minor) == NVML_SUCCESS) gpu.minor_number = minor;
    gpu.pci_bus_id = read_pci_bus_id(device);
    if (!read_identity(device, gpu) || !read_memory(device, gpu)) {
      device = nullptr;
      return gpu;
    }
    read_sensors(device, gpu);
    gpu.processes = read_processes(device);
    return gpu;
  }

 private:
  bool read_identity(nvmlDevice_t device, Gpu& gpu) {
    std::vector<char> uuid(NVML_DEVICE_UUID_V2_BUFFER_SIZE + 1, '\0');
    nvmlReturn_t code = api_.get_uuid ? api_.get_uuid(device, uuid.data(), NVML_DEVICE_UUID_V2_BUFFER_SIZE)
                                      : NVML_ERROR_FUNCTION_NOT_FOUND;
    if (code != NVML_SUCCESS) {
      gpu.error = "cannot read its UUID: " + nvml_.describe(code);
      return false;
    }
    gpu.uuid = uuid.data();
    return true;
  }

  std::optional<std::string> read_pci_bus_id(nvmlDevice_t device) {
    nvmlPciInfo_t info{};
    for (auto fn : {api_.get_pci_v3, api_.get_pci_v2}) {
      if (fn && fn(device, &info) == NVML_SUCCESS) return std::string(info.busId, strnlen(info.busId, sizeof info.busId));
    }
    nvmlPciInfo_v1_t legacy{};
    if (api_.get_pci_v1 && api_.get_pci_v1(device, &legacy) == NVML_SUCCESS) {
      return std::string(legacy.busId, strnlen(legacy.busId, sizeof legacy.busId));
    }
    return std::nullopt;
  }

  // v2 gives free/used without driver-reserved memory; the unversioned query is the
  // fallback for drivers before 510 and counts reserved memory as used. A reading that
  // cannot be true leaves memory unknown (set_memory) but the GPU usable.
  bool read_memory(nvmlDevice_t device, Gpu& gpu) {
    nvmlReturn_t code = NVML_ERROR_FUNCTION_NOT_FOUND;
    if (api_.get_memory_v2) {
      nvmlMemory_v2_t memory{};
      memory.version = nvmlMemory_v2;
      code = api_.get_memory_v2(device, &memory);
      if (code == NVML_SUCCESS) {
        set_memory(gpu, memory.total, memory.used, memory.free, memory.reserved);
        return true;
      }
    }
    if (api_.get_memory) {
      nvmlMemory_t memory{};
      code = api_.get_memory(device, &memory);
      if (code == NVML_SUCCESS) {
        set_memory(gpu, memory.total, memory.used, memory.free, std::nullopt);
        return true;
      }
    }
    gpu.error = nvml_.describe(code);
    return false;
  }

  void read_sensors(nvmlDevice_t device, Gpu& gpu) {
    nvmlUtilization_t utilization{};
    if (api_.get_utilization && api_.get_utilization(device, &utilization) == NVML_SUCCESS) {
      gpu.utilization_percent = utilization.gpu;
    }
    unsigned value = 0;
    if (api_.get_temperature && api_.get_temperature(device, NVML_TEMPERATURE_GPU, &value) == NVML_SUCCESS) {
      gpu.temperature_c = value;
    }
    if (api_.get_power && api_.get_power(device, &value) == NVML_SUCCESS) gpu.power_w = value / 1000.0;
    if (api_.get_power_limit && api_.get_power_limit(device, &value) == NVML_SUCCESS) {
      gpu.power_limit_w = value / 1000.0;
    }
    gpu.utilization_avg_percent = average(device, NVML_GPU_UTILIZATION_SAMPLES);
    if (auto milliwatts = average(device, NVML_TOTAL_POWER_SAMPLES)) gpu.power_avg_w = *milliwatts / 1000.0;
  }

  // The mean of the driver's samples over the last window, measured back from the
  // newest sample (the buffer's clock is the driver's). Empty when the driver keeps no
  // samples of this kind: the caller falls back to the instantaneous reading.
  std::optional<double> average(nvmlDevice_t device, int type) {
    if (!api_.get_samples) return std::nullopt;
    int value_type = 0;
    unsigned count = 0;
    if (api_.get_samples(device, type, 0, &value_type, &count, nullptr) != NVML_SUCCESS || count == 0) {
      return std::nullopt;
    }
    std::vector<nvmlSample_t> samples(count + count / 4 + 8);
    count = static_cast<unsigned>(samples.size());
    if (api_.get_samples(device, type, 0, &value_type, &count, samples.data()) != NVML_SUCCESS || count == 0) {
      return std::nullopt;
    }
    samples.resize(std::min<std::size_t>(count, samples.size()));
    unsigned long long newest = 0;
    for (const auto& sample : samples) newest = std::max(newest, sample.timeStamp);
    auto window_us = static_cast<unsigned long long>(window_.count()) * 1000ull;
    double sum = 0;
    int used = 0;
    for (const auto& sample : samples) {
      if (sample.timeStamp + window_us < newest) continue;
      sum += sample_value(sample.sampleValue, value_type);
      ++used;
    }
    return used ? std::optional<double>(sum / used) : std::nullopt;
  }

  static double sample_value(const nvmlValue_t& value, int type) {
    switch (type) {
      case NVML_VALUE_TYPE_DOUBLE: return value.dVal;
      case NVML_VALUE_TYPE_UNSIGNED_LONG: return double(value.ulVal);
      case NVML_VALUE_TYPE_UNSIGNED_LONG_LONG: return double(value.ullVal);
      case NVML_VALUE_TYPE_SIGNED_LONG_LONG: return double(value.sllVal);
      case NVML_VALUE_TYPE_SIGNED_INT: return double(value.siVal);
      default: return double(value.uiVal);
    }
  }

  // Newest query first; a version the driver lacks or refuses falls through to the next.
  std::optional<std::vector<GpuProcess>> read_processes(nvmlDevice_t device) {
    const ProcessQuery queries[] = {{api_.processes_v3, v3_stride_},
                                    {api_.processes_v2, sizeof(nvmlProcessInfo_v2_t)},
                                    {api_.processes_v1, sizeof(nvmlProcessInfo_v1_t)}};
    for (const auto& query : queries) {
      if (!query.fn) continue;
      nvmlReturn_t code = NVML_SUCCESS;
      auto processes = run_process_query(device, query, code);
      if (code != NVML_ERROR_FUNCTION_NOT_FOUND && code != NVML_ERROR_NOT_SUPPORTED) return processes;
    }
    return std::nullopt;
  }

  // The size-query protocol: ask with count 0, allocate with headroom, and ask again
  // while the list keeps growing between the calls.
  static std::optional<std::vector<GpuProcess>> run_process_query(nvmlDevice_t device, const ProcessQuery& query,
                                                                  nvmlReturn_t& code) {
    unsigned count = 0;
    code = query.fn(device, &count, nullptr);
    if (code == NVML_SUCCESS) return std::vector<GpuProcess>{};
    for (int attempt = 0; attempt < 8 && code == NVML_ERROR_INSUFFICIENT_SIZE; ++attempt) {
      unsigned capacity = count + count / 2 + 8;
      std::vector<unsigned char> buffer(capacity * query.stride);
      count = capacity;
      code = query.fn(device, &count, buffer.data());
      if (code == NVML_SUCCESS) return decode(buffer, std::min(count, capacity), query.stride);
    }
    return std::nullopt;
  }

  // Every layout starts with `unsigned pid` then `unsigned long long usedGpuMemory`
  // at offset 8; only the stride differs.
  static std::vector<GpuProcess> decode(const std::vector<unsigned char>& buffer, unsigned count,
                                        std::size_t stride) {
    std::vector<GpuProcess> processes;
    for (unsigned i = 0; i < count; ++i) {
      nvmlProcessInfo_v1_t entry;
      std::memcpy(&entry, buffer.data() + i * stride, sizeof entry);
      GpuProcess process{entry.pid, std::nullopt};
      if (entry.usedGpuMemory != NVML_VALUE_NOT_AVAILABLE) process.used_memory_bytes = entry.usedGpuMemory;
      processes.push_back(process);
    }
    return processes;
  }

  const NvmlLibrary& nvml_;
  const NvmlApi& api_;
  std::size_t v3_stride_;
  std::chrono::milliseconds window_;
};

}  // namespace

Result<Machine> NvmlGpuSource::query(TopologyDetail detail) {
  const NvmlApi& api = library_->api();
  Machine machine;
  machine.driver_version = read_string(api.get_driver_version, NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE);
  machine.nvml_version = read_string(api.get_nvml_version, NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE);
  int cuda = 0;
  if (api.get_cuda_driver_version && api.get_cuda_driver_version(&cuda) == NVML_SUCCESS) {
    machine.cuda_driver_version = cuda;
  }
  unsigned count = 0;
  if (nvmlReturn_t code = api.get_count(&count); code != NVML_SUCCESS) {
    return Error{ErrorKind::nvml_unavailable,
                 "NVML cannot count the GPUs (" + library_->describe(code) + "); check that `nvidia-smi` works",
                 {}};
  }
  GpuReader reader(*library_, process_v3_stride(machine.driver_version.value_or("")), sample_window_);
  std::vector<nvmlDevice_t> devices(count, nullptr);
  for (unsigned index = 0; index < count; ++index) machine.gpus.push_back(reader.read(index, devices[index]));
  if (detail != TopologyDetail::none) read_locality(api, devices, machine);
  if (detail == TopologyDetail::links) wg::read_links(api, devices, machine);
  return machine;
}

void NvmlGpuSource::read_links(Machine& machine, const std::vector<unsigned>& among) {
  const NvmlApi& api = library_->api();
  std::vector<nvmlDevice_t> devices(machine.gpus.size(), nullptr);
  for (unsigned index : among) {
    if (index >= devices.size() || !machine.gpus[index].usable()) continue;
    if (api.get_handle(index, &devices[index]) != NVML_SUCCESS) devices[index] = nullptr;
  }
  wg::read_links(api, devices, machine);
}

}  // namespace wg
