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
    gpu.mig_modes = read_mig_modes(device, gpu);
    return gpu;
  }

  // The instances of `parent`, a GPU in MIG mode whose handle is `device`, in slot order;
  // their indices are left for the caller to give.
  std::vector<Gpu> read_instances(const Gpu& parent, nvmlDevice_t device) {
    std::vector<Gpu> instances;
    unsigned slots = 0;
    if (!api_.get_max_mig_count || !api_.get_mig_handle || api_.get_max_mig_count(device, &slots) != NVML_SUCCESS) {
      return instances;
    }
    for (unsigned slot = 0; slot < slots; ++slot) {
      nvmlDevice_t handle = nullptr;
      nvmlReturn_t code = api_.get_mig_handle(device, slot, &handle);
      // A slot whose instance was destroyed stays empty: a gap, not the end of the list.
      // Any other refusal leaves no handle, so no UUID, which is what CUDA and a claim
      // name an instance by: that one cannot be offered, the others still can.
      if (code != NVML_SUCCESS) continue;
      if (auto instance = read_instance(parent, handle, slot, static_cast<unsigned>(instances.size()))) {
        instances.push_back(std::move(*instance));
      }
    }
    return instances;
  }

 private:
  std::optional<MigModes> read_mig_modes(nvmlDevice_t device, Gpu& gpu) {
    unsigned current = NVML_DEVICE_MIG_DISABLE;
    unsigned pending = NVML_DEVICE_MIG_DISABLE;
    if (!api_.get_mig_mode) return std::nullopt;
    nvmlReturn_t code = api_.get_mig_mode(device, &current, &pending);
    if (code == NVML_ERROR_NOT_SUPPORTED) return std::nullopt;
    // Any other failure leaves unknown whether CUDA sees the GPU or its instances (one
    // another job may hold): the GPU is not offered at all.
    if (code != NVML_SUCCESS) {
      gpu.error = "cannot read its MIG mode: " + nvml_.describe(code);
      return std::nullopt;
    }
    auto mode = [](unsigned value) { return value == NVML_DEVICE_MIG_ENABLE ? MigMode::enabled : MigMode::disabled; };
    return MigModes{mode(current), mode(pending)};
  }

  // NVML reports no utilization per instance, and sensors and placement are the
  // parent's; memory and processes are read on the instance's own handle. An instance
  // whose UUID cannot be read is left out: nothing could name or claim it.
  std::optional<Gpu> read_instance(const Gpu& parent, nvmlDevice_t handle, unsigned slot, unsigned device) {
    Gpu gpu;
    if (!read_identity(handle, gpu)) return std::nullopt;
    gpu.name = parent.name;
    gpu.pci_bus_id = parent.pci_bus_id;
    gpu.minor_number = parent.minor_number;
    gpu.numa_node = parent.numa_node;
    gpu.local_cpus = parent.local_cpus;
    gpu.temperature_c = parent.temperature_c;
    gpu.power_w = parent.power_w;
    gpu.power_avg_w = parent.power_avg_w;
    gpu.power_limit_w = parent.power_limit_w;
    gpu.mig = read_mig_instance(parent, handle, slot, device);
    if (read_memory(handle, gpu)) gpu.processes = read_processes(handle);
    return gpu;
  }

  // Ids and slices the driver refuses stay 0 (and the profile empty): the instance is
  // still usable by its UUID.
  MigInstance read_mig_instance(const Gpu& parent, nvmlDevice_t handle, unsigned slot, unsigned device) {
    MigInstance mig;
    mig.parent_index = parent.index;
    mig.parent_uuid = parent.uuid;
    mig.slot = slot;
    mig.device = device;
    unsigned id = 0;
    if (api_.get_gpu_instance_id && api_.get_gpu_instance_id(handle, &id) == NVML_SUCCESS) mig.gpu_instance_id = id;
    if (api_.get_compute_instance_id && api_.get_compute_instance_id(handle, &id) == NVML_SUCCESS) {
      mig.compute_instance_id = id;
    }
    nvmlDeviceAttributes_t attributes{};
    if (api_.get_attributes_v2 && api_.get_attributes_v2(handle, &attributes) == NVML_SUCCESS) {
      mig.gpu_slices = attributes.gpuInstanceSliceCount;
      mig.compute_slices = attributes.computeInstanceSliceCount;
      mig.profile = mig_profile_name(mig.gpu_slices, mig.compute_slices, attributes.memorySizeMB);
    }
    return mig;
  }

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

// After every whole GPU, so that a whole GPU's index stays NVML's, and after locality,
// which an instance shares with its parent.
void append_instances(GpuReader& reader, const std::vector<nvmlDevice_t>& devices, Machine& machine) {
  for (std::size_t index = 0; index < devices.size(); ++index) {
    if (!devices[index] || !machine.gpus[index].split_by_mig()) continue;
    for (Gpu& instance : reader.read_instances(machine.gpus[index], devices[index])) {
      instance.index = static_cast<unsigned>(machine.gpus.size());
      machine.gpus.push_back(std::move(instance));
    }
  }
}

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
  append_instances(reader, devices, machine);
  return machine;
}

void NvmlGpuSource::read_links(Machine& machine, const std::vector<unsigned>& among) {
  const NvmlApi& api = library_->api();
  // Links join whole GPUs: an instance has no handle by index, and its links are its parent's.
  auto whole = std::count_if(machine.gpus.begin(), machine.gpus.end(), [](const Gpu& gpu) { return !gpu.mig; });
  std::vector<nvmlDevice_t> devices(static_cast<std::size_t>(whole), nullptr);
  for (unsigned index : among) {
    if (index >= devices.size() || !machine.gpus[index].usable()) continue;
    if (api.get_handle(index, &devices[index]) != NVML_SUCCESS) devices[index] = nullptr;
  }
  wg::read_links(api, devices, machine);
}

}  // namespace wg
