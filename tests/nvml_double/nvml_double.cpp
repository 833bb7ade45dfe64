// A test double of NVIDIA's libnvidia-ml.so.1: the same C symbols and struct layouts,
// answering from a JSON machine file named by NVML_DOUBLE_MACHINE. with-gpu loads it
// through its real dlopen path (WITH_GPU_NVML_LIBRARY), so the loader, the symbol
// fallbacks and the size-query protocol are what the tests exercise.
//
// The file is re-read whenever it changes, so a test can change the machine while
// with-gpu waits. An old driver is simulated by listing the symbols it lacks in
// "missing_symbols" (see the end of this file). Format: docs/nvml-double.md.

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cpu_set.hpp"
#include "nvml/nvml_abi.hpp"

#define NVML_EXPORT extern "C" __attribute__((visibility("default")))

// Exports `name` as an indirect function resolved by resolve_<name>.
#define NVML_DOUBLE_SYMBOL(name, ret, params)                                                  \
  extern "C" auto resolve_##name()->decltype(&impl_##name) {                                  \
    return symbol_missing(#name) ? nullptr : &impl_##name;                                    \
  }                                                                                            \
  extern "C" __attribute__((visibility("default"))) ret name params __attribute__((ifunc("resolve_" #name)));

namespace {

using nlohmann::json;
constexpr unsigned long long kMiB = 1024ull * 1024ull;

struct State {
  json machine;
  std::string loaded_path;
  timespec loaded_mtime{};
  off_t loaded_size = -1;
  bool initialised = false;
  std::map<unsigned, unsigned> process_calls;  // per GPU, for understated size queries
  unsigned generation = 0;                      // bumped on every reload, for caches
  long long checked_us = 0;                     // when the file was last stat'ed
};

State& state() {
  static State instance;
  return instance;
}

const std::map<std::string, nvmlReturn_t>& error_codes() {
  static const std::map<std::string, nvmlReturn_t> codes = {
      {"UNINITIALIZED", NVML_ERROR_UNINITIALIZED},
      {"INVALID_ARGUMENT", NVML_ERROR_INVALID_ARGUMENT},
      {"NOT_SUPPORTED", NVML_ERROR_NOT_SUPPORTED},
      {"NO_PERMISSION", NVML_ERROR_NO_PERMISSION},
      {"NOT_FOUND", NVML_ERROR_NOT_FOUND},
      {"DRIVER_NOT_LOADED", NVML_ERROR_DRIVER_NOT_LOADED},
      {"TIMEOUT", NVML_ERROR_TIMEOUT},
      {"FUNCTION_NOT_FOUND", NVML_ERROR_FUNCTION_NOT_FOUND},
      {"GPU_IS_LOST", NVML_ERROR_GPU_IS_LOST},
      {"RESET_REQUIRED", NVML_ERROR_RESET_REQUIRED},
      {"LIB_RM_VERSION_MISMATCH", NVML_ERROR_LIB_RM_VERSION_MISMATCH},
      {"ARGUMENT_VERSION_MISMATCH", NVML_ERROR_ARGUMENT_VERSION_MISMATCH},
      {"UNKNOWN", NVML_ERROR_UNKNOWN},
  };
  return codes;
}

// Re-reads the machine file when its modification time or size changed.
bool reload() {
  State& s = state();
  const char* path = std::getenv("NVML_DOUBLE_MACHINE");
  if (!path) return false;
  // One stat per half millisecond at most within a session (nvmlInit stats again): a
  // query of a big machine makes thousands of calls, and with-gpu never re-reads the
  // driver more often than every 10 ms.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long now_us = now.tv_sec * 1000000ll + now.tv_nsec / 1000;
  if (s.loaded_path == path && now_us - s.checked_us < 500) return true;
  s.checked_us = now_us;
  struct stat info {};
  if (stat(path, &info) != 0) return false;
  bool same = s.loaded_path == path && info.st_size == s.loaded_size &&
              info.st_mtim.tv_sec == s.loaded_mtime.tv_sec && info.st_mtim.tv_nsec == s.loaded_mtime.tv_nsec;
  if (same) return true;
  std::ifstream in(path);
  json parsed = json::parse(in, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    std::fprintf(stderr, "nvml double: %s is not a JSON object\n", path);
    return false;
  }
  s.machine = std::move(parsed);
  s.loaded_path = path;
  s.loaded_mtime = info.st_mtim;
  s.loaded_size = info.st_size;
  ++s.generation;
  return true;
}

// The entry for `symbol` in the table `owner[table]` ("errors", "delays_ms"), or null. A
// key without a version suffix applies to every version of the function.
const json* entry_for(const json& owner, const char* table, const std::string& symbol) {
  if (!owner.contains(table) || !owner[table].is_object()) return nullptr;
  const json& entries = owner[table];
  std::string base = symbol.substr(0, symbol.rfind("_v") == std::string::npos ? symbol.size() : symbol.rfind("_v"));
  for (const std::string& key : {symbol, base}) {
    if (entries.contains(key)) return &entries[key];
  }
  return nullptr;
}

// The error injected for `symbol` in `errors` ({"nvmlDeviceGetMemoryInfo_v2": "GPU_IS_LOST"}).
nvmlReturn_t injected(const json& owner, const std::string& symbol) {
  const json* entry = entry_for(owner, "errors", symbol);
  if (!entry) return NVML_SUCCESS;
  auto found = error_codes().find(entry->get<std::string>());
  return found == error_codes().end() ? NVML_ERROR_UNKNOWN : found->second;
}

// A slow driver: sleeps as long as `delays_ms` asks for `symbol` ({"nvmlDeviceGetMemoryInfo_v2":
// 3000}), first appending "SYMBOL MS" to the machine's "delay_log" file when it names one, so
// that a test can act while the call is under way rather than guess when it is.
void delay(const json& owner, const std::string& symbol) {
  const json* entry = entry_for(owner, "delays_ms", symbol);
  if (!entry || !entry->is_number_unsigned() || entry->get<unsigned long long>() == 0) return;
  unsigned long long ms = entry->get<unsigned long long>();
  std::string log = state().machine.value("delay_log", "");
  if (!log.empty()) {
    if (std::FILE* file = std::fopen(log.c_str(), "a")) {
      std::fprintf(file, "%s %llu\n", symbol.c_str(), ms);
      std::fclose(file);
    }
  }
  timespec left{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

// True when the machine file lists `symbol` in "missing_symbols" (an old driver).
// Runs inside dlsym, so it only reads the file and allocates.
bool symbol_missing(const char* symbol) {
  if (!reload() || !state().machine.contains("missing_symbols")) return false;
  for (const auto& name : state().machine["missing_symbols"]) {
    if (name.is_string() && name.get<std::string>() == symbol) return true;
  }
  return false;
}

nvmlReturn_t check_system(const char* symbol) {
  if (!state().initialised) return NVML_ERROR_UNINITIALIZED;
  if (!reload()) return NVML_ERROR_UNKNOWN;
  delay(state().machine, symbol);
  return injected(state().machine, symbol);
}

const json* gpu_of(nvmlDevice_t device) {
  auto index = reinterpret_cast<std::uintptr_t>(device);
  const json& gpus = state().machine["gpus"];
  if (index == 0 || index > gpus.size()) return nullptr;
  return &gpus[index - 1];
}

// A whole GPU's handle is its index + 1, what index_of undoes; a MIG instance's is kMigHandle | parent << 8 | slot.
constexpr std::uintptr_t kMigHandle = std::uintptr_t{1} << 24;

unsigned index_of(nvmlDevice_t device) { return static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(device) - 1); }

nvmlDevice_t mig_handle(unsigned parent, unsigned slot) {
  return reinterpret_cast<nvmlDevice_t>(kMigHandle | (std::uintptr_t{parent} << 8) | slot);
}

bool is_mig_handle(nvmlDevice_t device) { return (reinterpret_cast<std::uintptr_t>(device) & kMigHandle) != 0; }

// A GPU's "mig" object, or null for a GPU without MIG.
const json* mig_of(const json& gpu) {
  return gpu.contains("mig") && gpu["mig"].is_object() ? &gpu["mig"] : nullptr;
}

// The entry of "mig.instances" at `slot`, or null: a slot not listed is a gap.
const json* instance_at(const json& gpu, unsigned slot) {
  const json* mig = mig_of(gpu);
  if (!mig || !mig->contains("instances")) return nullptr;
  for (const auto& instance : (*mig)["instances"]) {
    if (instance.value("slot", ~0u) == slot) return &instance;
  }
  return nullptr;
}

// The instance a MIG handle names (null for any other handle); `parent` its GPU's index.
const json* instance_of(nvmlDevice_t device, unsigned* parent = nullptr) {
  if (!is_mig_handle(device)) return nullptr;
  auto value = reinterpret_cast<std::uintptr_t>(device) & (kMigHandle - 1);
  auto index = static_cast<unsigned>(value >> 8);
  const json& gpus = state().machine["gpus"];
  if (index >= gpus.size()) return nullptr;
  if (parent) *parent = index;
  return instance_at(gpus[index], static_cast<unsigned>(value & 0xFF));
}

// Common prologue of every device query: initialised, file readable, handle valid,
// no injected error. Sets `gpu` on success. A MIG instance's handle is valid but
// answers NOT_SUPPORTED: only the queries that use check_device_or_instance take it.
nvmlReturn_t check_device(nvmlDevice_t device, const char* symbol, const json*& gpu) {
  if (nvmlReturn_t code = check_system(symbol); code != NVML_SUCCESS) return code;
  gpu = gpu_of(device);
  if (!gpu) return instance_of(device) ? NVML_ERROR_NOT_SUPPORTED : NVML_ERROR_INVALID_ARGUMENT;
  delay(*gpu, symbol);
  return injected(*gpu, symbol);
}

// check_device for the queries NVML also answers on a MIG instance's handle: `device` is
// then the instance's entry, whose own "errors" and "delays_ms" apply.
nvmlReturn_t check_device_or_instance(nvmlDevice_t device, const char* symbol, const json*& entry) {
  if (nvmlReturn_t code = check_system(symbol); code != NVML_SUCCESS) return code;
  entry = gpu_of(device);
  if (!entry) entry = instance_of(device);
  if (!entry) return NVML_ERROR_INVALID_ARGUMENT;
  delay(*entry, symbol);
  return injected(*entry, symbol);
}

nvmlReturn_t copy_string(const std::string& value, char* out, unsigned int length) {
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  if (value.size() + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  std::memcpy(out, value.c_str(), value.size() + 1);
  return NVML_SUCCESS;
}

// A reading: NOT_SUPPORTED when the machine file leaves it out or sets it to null.
template <class T>
nvmlReturn_t reading(const json& gpu, const char* key, T& out) {
  if (!gpu.contains(key) || gpu[key].is_null()) return NVML_ERROR_NOT_SUPPORTED;
  out = gpu[key].get<T>();
  return NVML_SUCCESS;
}

unsigned long long mib(const json& gpu, const char* key) {
  return gpu.contains(key) ? gpu[key].get<unsigned long long>() * kMiB : 0;
}

// Free memory: what the machine file forces with "memory_free_mib" (a reading a broken
// driver can answer: more than the total), else `derived`.
unsigned long long free_memory(const json& gpu, unsigned long long derived) {
  return gpu.contains("memory_free_mib") ? mib(gpu, "memory_free_mib") : derived;
}

nvmlReturn_t init(const char* symbol) {
  state().checked_us = 0;  // a new session always sees the file as it is now
  if (!reload()) return NVML_ERROR_DRIVER_NOT_LOADED;
  delay(state().machine, symbol);
  nvmlReturn_t code = injected(state().machine, symbol);
  if (code == NVML_SUCCESS) state().initialised = true;
  state().process_calls.clear();
  return code;
}

nvmlReturn_t count(const char* symbol, unsigned int* out) {
  if (nvmlReturn_t code = check_system(symbol); code != NVML_SUCCESS) return code;
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  *out = static_cast<unsigned>(state().machine.value("gpus", json::array()).size());
  return NVML_SUCCESS;
}

// "device_path": the GPU's device node. The real library opens /dev/nvidiaN for a handle,
// so where this process may not open the node (EPERM from a device cgroup, EACCES from its
// mode) the handle is NO_PERMISSION. Any other answer, ENXIO from a node without a driver
// behind it included, lets the handle through.
nvmlReturn_t device_permission(const json& gpu) {
  if (!gpu.contains("device_path") || !gpu["device_path"].is_string()) return NVML_SUCCESS;
  int fd = open(gpu["device_path"].get<std::string>().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return NVML_SUCCESS;
  }
  return errno == EPERM || errno == EACCES ? NVML_ERROR_NO_PERMISSION : NVML_SUCCESS;
}

nvmlReturn_t handle(const char* symbol, unsigned int index, nvmlDevice_t* out) {
  if (nvmlReturn_t code = check_system(symbol); code != NVML_SUCCESS) return code;
  const json& gpus = state().machine["gpus"];
  if (!out || index >= gpus.size()) return NVML_ERROR_INVALID_ARGUMENT;
  delay(gpus[index], symbol);
  if (nvmlReturn_t code = injected(gpus[index], symbol); code != NVML_SUCCESS) return code;
  if (nvmlReturn_t code = device_permission(gpus[index]); code != NVML_SUCCESS) return code;
  *out = reinterpret_cast<nvmlDevice_t>(static_cast<std::uintptr_t>(index) + 1);
  return NVML_SUCCESS;
}

// Fills `infos` with elements of `stride` bytes following NVML's size-query protocol.
// "process_count_understated_by": N makes the first size query of each with-gpu
// run report N fewer processes than there are, as when the list grows in between.
nvmlReturn_t processes(const char* symbol, nvmlDevice_t device, unsigned int* count, void* infos,
                       std::size_t stride) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device_or_instance(device, symbol, gpu); code != NVML_SUCCESS) return code;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  const json list = gpu->value("processes", json::array());
  // On an instance's handle every entry carries its ids; on a GPU, what the file says.
  unsigned gpu_instance = gpu->value("gpu_instance_id", 0xFFFFFFFFu);
  unsigned compute_instance = gpu->value("compute_instance_id", 0xFFFFFFFFu);
  unsigned actual = static_cast<unsigned>(list.size());
  unsigned call = state().process_calls[static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(device))]++;
  if (!infos || *count < actual) {
    unsigned needed = actual;
    if (call == 0 && gpu->contains("process_count_understated_by")) {
      unsigned under = (*gpu)["process_count_understated_by"].get<unsigned>();
      needed = under >= actual ? 1 : actual - under;
    }
    *count = needed;
    return actual == 0 ? NVML_SUCCESS : NVML_ERROR_INSUFFICIENT_SIZE;
  }
  auto* out = static_cast<unsigned char*>(infos);
  std::memset(out, 0, actual * stride);
  for (unsigned i = 0; i < actual; ++i) {
    nvmlProcessInfo_535_t element{};
    element.pid = list[i].at("pid").get<unsigned>();
    const json& used = list[i].contains("used_memory_mib") ? list[i]["used_memory_mib"] : json();
    element.usedGpuMemory = used.is_null() ? NVML_VALUE_NOT_AVAILABLE : used.get<unsigned long long>() * kMiB;
    element.gpuInstanceId = list[i].value("gpu_instance_id", gpu_instance);
    element.computeInstanceId = list[i].value("compute_instance_id", compute_instance);
    std::memcpy(out + i * stride, &element, stride);
  }
  *count = actual;
  return NVML_SUCCESS;
}

std::size_t v3_stride() {
  return wg::process_v3_stride(state().machine.value("driver_version", "550.54.14"));
}

template <class Info>
nvmlReturn_t pci_info(const char* symbol, nvmlDevice_t device, void* out) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, symbol, gpu); code != NVML_SUCCESS) return code;
  std::string bus_id;
  if (nvmlReturn_t code = reading(*gpu, "pci_bus_id", bus_id); code != NVML_SUCCESS) return code;
  Info info{};
  // The v1 layout has room for 16 bytes: old drivers wrote a 4-digit domain there.
  if (sizeof info.busId <= 16 && bus_id.size() >= 16) bus_id = bus_id.substr(4);
  std::snprintf(info.busId, sizeof info.busId, "%s", bus_id.c_str());
  std::memcpy(out, &info, sizeof info);
  return NVML_SUCCESS;
}

}  // namespace

NVML_EXPORT const char* nvmlErrorString(nvmlReturn_t code) {
  switch (code) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    case NVML_ERROR_FUNCTION_NOT_FOUND: return "Function Not Found";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case NVML_ERROR_RESET_REQUIRED: return "GPU requires reset";
    case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "RM has detected an NVML/RM version mismatch.";
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument version mismatch";
    default: return "Unknown Error";
  }
}

static nvmlReturn_t impl_nvmlInit() { return init("nvmlInit"); }
static nvmlReturn_t impl_nvmlShutdown() {
  state().initialised = false;
  state().checked_us = 0;  // the next dlopen's resolvers and nvmlInit see the file as it is then
  return NVML_SUCCESS;
}
static nvmlReturn_t impl_nvmlDeviceGetCount(unsigned int* out) { return count("nvmlDeviceGetCount", out); }
static nvmlReturn_t impl_nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t* out) {
  return handle("nvmlDeviceGetHandleByIndex", index, out);
}

static nvmlReturn_t impl_nvmlSystemGetDriverVersion(char* out, unsigned int length) {
  if (nvmlReturn_t code = check_system("nvmlSystemGetDriverVersion"); code != NVML_SUCCESS) return code;
  return copy_string(state().machine.value("driver_version", "550.54.14"), out, length);
}

static nvmlReturn_t impl_nvmlSystemGetNVMLVersion(char* out, unsigned int length) {
  if (nvmlReturn_t code = check_system("nvmlSystemGetNVMLVersion"); code != NVML_SUCCESS) return code;
  return copy_string(state().machine.value("nvml_version", "12.550.54.14"), out, length);
}

static nvmlReturn_t impl_nvmlSystemGetCudaDriverVersion(int* out) {
  if (nvmlReturn_t code = check_system("nvmlSystemGetCudaDriverVersion"); code != NVML_SUCCESS) return code;
  *out = state().machine.value("cuda_driver_version", 12040);
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceGetUUID(nvmlDevice_t device, char* out, unsigned int length) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device_or_instance(device, "nvmlDeviceGetUUID", gpu); code != NVML_SUCCESS) return code;
  return copy_string(gpu->value("uuid", ""), out, length);
}

static nvmlReturn_t impl_nvmlDeviceGetName(nvmlDevice_t device, char* out, unsigned int length) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetName", gpu); code != NVML_SUCCESS) return code;
  return copy_string(gpu->value("name", "NVIDIA Simulated GPU"), out, length);
}

// "minor_number": N of /dev/nvidiaN; absent: NOT_SUPPORTED.
static nvmlReturn_t impl_nvmlDeviceGetMinorNumber(nvmlDevice_t device, unsigned int* out) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetMinorNumber", gpu); code != NVML_SUCCESS) return code;
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  return reading(*gpu, "minor_number", *out);
}

static nvmlReturn_t impl_nvmlDeviceGetPciInfo(nvmlDevice_t device, nvmlPciInfo_v1_t* out) {
  return pci_info<nvmlPciInfo_v1_t>("nvmlDeviceGetPciInfo", device, out);
}

// Before R510: total, free and used, with driver-reserved memory counted as used.
static nvmlReturn_t impl_nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* out) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device_or_instance(device, "nvmlDeviceGetMemoryInfo", gpu); code != NVML_SUCCESS) return code;
  out->total = mib(*gpu, "memory_total_mib");
  out->used = std::min(out->total, mib(*gpu, "memory_used_mib") + mib(*gpu, "memory_reserved_mib"));
  out->free = free_memory(*gpu, out->total - out->used);
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int* count,
                                                               void* infos) {
  return processes("nvmlDeviceGetComputeRunningProcesses", device, count, infos, sizeof(nvmlProcessInfo_v1_t));
}

static nvmlReturn_t impl_nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t* out) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device_or_instance(device, "nvmlDeviceGetUtilizationRates", gpu);
      code != NVML_SUCCESS) {
    return code;
  }
  if (is_mig_handle(device)) return NVML_ERROR_NOT_SUPPORTED;  // NVML keeps no utilization per instance
  out->memory = 0;
  return reading(*gpu, "utilization_percent", out->gpu);
}

static nvmlReturn_t impl_nvmlDeviceGetTemperature(nvmlDevice_t device, unsigned int sensor, unsigned int* out) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetTemperature", gpu); code != NVML_SUCCESS) return code;
  if (sensor != NVML_TEMPERATURE_GPU) return NVML_ERROR_INVALID_ARGUMENT;
  return reading(*gpu, "temperature_c", *out);
}

static nvmlReturn_t impl_nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int* milliwatts) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetPowerUsage", gpu); code != NVML_SUCCESS) return code;
  double watts = 0;
  if (nvmlReturn_t code = reading(*gpu, "power_w", watts); code != NVML_SUCCESS) return code;
  *milliwatts = static_cast<unsigned>(watts * 1000.0);
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int* milliwatts) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetEnforcedPowerLimit", gpu); code != NVML_SUCCESS) {
    return code;
  }
  double watts = 0;
  if (nvmlReturn_t code = reading(*gpu, "power_limit_w", watts); code != NVML_SUCCESS) return code;
  *milliwatts = static_cast<unsigned>(watts * 1000.0);
  return NVML_SUCCESS;
}

// The driver's sample buffer: "samples": {"utilization_percent": [[ms_ago, value], ...],
// "power_w": [[ms_ago, watts], ...]}, stamped relative to now on every call. A GPU
// without samples of a kind answers NOT_FOUND, as a driver with an empty buffer does.
static nvmlReturn_t impl_nvmlDeviceGetSamples(nvmlDevice_t device, int type, unsigned long long last_seen,
                                              int* value_type, unsigned int* count, nvmlSample_t* samples) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetSamples", gpu); code != NVML_SUCCESS) return code;
  if (!count || !value_type) return NVML_ERROR_INVALID_ARGUMENT;
  const char* key = type == NVML_GPU_UTILIZATION_SAMPLES ? "utilization_percent"
                    : type == NVML_TOTAL_POWER_SAMPLES   ? "power_w"
                                                         : nullptr;
  if (!key) return NVML_ERROR_NOT_SUPPORTED;
  const json list = gpu->value("samples", json::object()).value(key, json::array());
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  unsigned long long now_us = static_cast<unsigned long long>(now.tv_sec) * 1000000ull + now.tv_nsec / 1000;
  std::vector<nvmlSample_t> fresh;
  for (const auto& entry : list) {
    nvmlSample_t sample{};
    sample.timeStamp = now_us - entry.at(0).get<unsigned long long>() * 1000ull;
    double value = entry.at(1).get<double>();
    sample.sampleValue.uiVal = static_cast<unsigned>(type == NVML_TOTAL_POWER_SAMPLES ? value * 1000.0 : value);
    if (sample.timeStamp > last_seen) fresh.push_back(sample);
  }
  *value_type = NVML_VALUE_TYPE_UNSIGNED_INT;
  if (fresh.empty()) return NVML_ERROR_NOT_FOUND;
  if (!samples) {
    *count = static_cast<unsigned>(fresh.size());
    return NVML_SUCCESS;
  }
  if (*count < fresh.size()) {
    *count = static_cast<unsigned>(fresh.size());
    return NVML_ERROR_INSUFFICIENT_SIZE;
  }
  std::memcpy(samples, fresh.data(), fresh.size() * sizeof(nvmlSample_t));
  *count = static_cast<unsigned>(fresh.size());
  return NVML_SUCCESS;
}

// The versioned entry points of drivers from R450/R510 on.

static nvmlReturn_t impl_nvmlInit_v2() { return init("nvmlInit_v2"); }
static nvmlReturn_t impl_nvmlDeviceGetCount_v2(unsigned int* out) { return count("nvmlDeviceGetCount_v2", out); }
static nvmlReturn_t impl_nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* out) {
  return handle("nvmlDeviceGetHandleByIndex_v2", index, out);
}

static nvmlReturn_t impl_nvmlSystemGetCudaDriverVersion_v2(int* out) {
  if (nvmlReturn_t code = check_system("nvmlSystemGetCudaDriverVersion_v2"); code != NVML_SUCCESS) return code;
  *out = state().machine.value("cuda_driver_version", 12040);
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t* out) {
  return pci_info<nvmlPciInfo_t>("nvmlDeviceGetPciInfo_v2", device, out);
}
static nvmlReturn_t impl_nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* out) {
  return pci_info<nvmlPciInfo_t>("nvmlDeviceGetPciInfo_v3", device, out);
}

static nvmlReturn_t impl_nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t* out) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device_or_instance(device, "nvmlDeviceGetMemoryInfo_v2", gpu); code != NVML_SUCCESS) {
    return code;
  }
  if (out->version != nvmlMemory_v2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  out->total = mib(*gpu, "memory_total_mib");
  out->reserved = mib(*gpu, "memory_reserved_mib");
  out->used = mib(*gpu, "memory_used_mib");
  out->free = free_memory(*gpu, out->total - std::min(out->total, out->reserved + out->used));
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int* count,
                                                                  void* infos) {
  return processes("nvmlDeviceGetComputeRunningProcesses_v2", device, count, infos, sizeof(nvmlProcessInfo_v2_t));
}

static nvmlReturn_t impl_nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int* count,
                                                                  void* infos) {
  return processes("nvmlDeviceGetComputeRunningProcesses_v3", device, count, infos, v3_stride());
}

// Every entry point is exported as a GNU indirect function: the loader asks the
// resolver for its address at dlsym time, and the resolver answers null for the
// symbols the machine file lists in "missing_symbols", exactly as dlsym answers for a
// symbol an old driver does not export.
NVML_DOUBLE_SYMBOL(nvmlInit, nvmlReturn_t, ())
NVML_DOUBLE_SYMBOL(nvmlShutdown, nvmlReturn_t, ())
NVML_DOUBLE_SYMBOL(nvmlDeviceGetCount, nvmlReturn_t, (unsigned int* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetHandleByIndex, nvmlReturn_t, (unsigned int index, nvmlDevice_t* out))
NVML_DOUBLE_SYMBOL(nvmlSystemGetDriverVersion, nvmlReturn_t, (char* out, unsigned int length))
NVML_DOUBLE_SYMBOL(nvmlSystemGetNVMLVersion, nvmlReturn_t, (char* out, unsigned int length))
NVML_DOUBLE_SYMBOL(nvmlSystemGetCudaDriverVersion, nvmlReturn_t, (int* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetUUID, nvmlReturn_t, (nvmlDevice_t device, char* out, unsigned int length))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetName, nvmlReturn_t, (nvmlDevice_t device, char* out, unsigned int length))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetMinorNumber, nvmlReturn_t, (nvmlDevice_t device, unsigned int* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetPciInfo, nvmlReturn_t, (nvmlDevice_t device, nvmlPciInfo_v1_t* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetMemoryInfo, nvmlReturn_t, (nvmlDevice_t device, nvmlMemory_t* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetComputeRunningProcesses, nvmlReturn_t, (nvmlDevice_t device, unsigned int* count,
                                                               void* infos))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetUtilizationRates, nvmlReturn_t, (nvmlDevice_t device, nvmlUtilization_t* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetTemperature, nvmlReturn_t, (nvmlDevice_t device, unsigned int sensor, unsigned int* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetPowerUsage, nvmlReturn_t, (nvmlDevice_t device, unsigned int* milliwatts))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetEnforcedPowerLimit, nvmlReturn_t, (nvmlDevice_t device, unsigned int* milliwatts))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetSamples, nvmlReturn_t,
                   (nvmlDevice_t device, int type, unsigned long long last_seen, int* value_type, unsigned int* count,
                    nvmlSample_t* samples))
NVML_DOUBLE_SYMBOL(nvmlInit_v2, nvmlReturn_t, ())
NVML_DOUBLE_SYMBOL(nvmlDeviceGetCount_v2, nvmlReturn_t, (unsigned int* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetHandleByIndex_v2, nvmlReturn_t, (unsigned int index, nvmlDevice_t* out))
NVML_DOUBLE_SYMBOL(nvmlSystemGetCudaDriverVersion_v2, nvmlReturn_t, (int* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetPciInfo_v2, nvmlReturn_t, (nvmlDevice_t device, nvmlPciInfo_t* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetPciInfo_v3, nvmlReturn_t, (nvmlDevice_t device, nvmlPciInfo_t* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetMemoryInfo_v2, nvmlReturn_t, (nvmlDevice_t device, nvmlMemory_v2_t* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetComputeRunningProcesses_v2, nvmlReturn_t, (nvmlDevice_t device, unsigned int* count,
                                                                  void* infos))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetComputeRunningProcesses_v3, nvmlReturn_t, (nvmlDevice_t device, unsigned int* count,
                                                                  void* infos))

// MIG. Per GPU: "mig": {"mode", "pending", "max_devices", "gap", "instances": [...]}; a GPU
// without it has no MIG (NOT_SUPPORTED, as a GeForce answers). An instance is an entry
// with "slot", "uuid", ids, slices and the memory and process keys of a GPU.
namespace {

unsigned mig_mode(const json& mig, const char* key, const char* fallback) {
  return mig.value(key, mig.value(fallback, std::string("disabled"))) == "enabled" ? NVML_DEVICE_MIG_ENABLE
                                                                                  : NVML_DEVICE_MIG_DISABLE;
}

}  // namespace

static nvmlReturn_t impl_nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int* current, unsigned int* pending) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetMigMode", gpu); code != NVML_SUCCESS) return code;
  const json* mig = mig_of(*gpu);
  if (!mig) return NVML_ERROR_NOT_SUPPORTED;
  if (!current || !pending) return NVML_ERROR_INVALID_ARGUMENT;
  *current = mig_mode(*mig, "mode", "mode");
  *pending = mig_mode(*mig, "pending", "mode");
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, unsigned int* count) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetMaxMigDeviceCount", gpu); code != NVML_SUCCESS) {
    return code;
  }
  const json* mig = mig_of(*gpu);
  if (!mig) return NVML_ERROR_NOT_SUPPORTED;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  *count = mig->value("max_devices", 7u);
  return NVML_SUCCESS;
}

// A slot without an instance answers "gap" (NOT_FOUND unless the file says INVALID_ARGUMENT,
// as some drivers do); an instance's own "errors" can refuse its handle.
static nvmlReturn_t impl_nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index,
                                                            nvmlDevice_t* out) {
  const char* symbol = "nvmlDeviceGetMigDeviceHandleByIndex";
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, symbol, gpu); code != NVML_SUCCESS) return code;
  const json* mig = mig_of(*gpu);
  if (!mig || mig_mode(*mig, "mode", "mode") != NVML_DEVICE_MIG_ENABLE) return NVML_ERROR_NOT_SUPPORTED;
  if (!out || index >= mig->value("max_devices", 7u)) return NVML_ERROR_INVALID_ARGUMENT;
  const json* instance = instance_at(*gpu, index);
  if (!instance) {
    auto found = error_codes().find(mig->value("gap", std::string("NOT_FOUND")));
    return found == error_codes().end() ? NVML_ERROR_NOT_FOUND : found->second;
  }
  delay(*instance, symbol);
  if (nvmlReturn_t code = injected(*instance, symbol); code != NVML_SUCCESS) return code;
  *out = mig_handle(index_of(device), index);
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t device, nvmlDevice_t* out) {
  if (nvmlReturn_t code = check_system("nvmlDeviceGetDeviceHandleFromMigDeviceHandle"); code != NVML_SUCCESS) {
    return code;
  }
  unsigned parent = 0;
  if (!out || !instance_of(device, &parent)) return NVML_ERROR_INVALID_ARGUMENT;
  *out = reinterpret_cast<nvmlDevice_t>(static_cast<std::uintptr_t>(parent) + 1);
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceIsMigDeviceHandle(nvmlDevice_t device, unsigned int* is_mig) {
  const json* entry = nullptr;
  if (nvmlReturn_t code = check_device_or_instance(device, "nvmlDeviceIsMigDeviceHandle", entry);
      code != NVML_SUCCESS) {
    return code;
  }
  if (!is_mig) return NVML_ERROR_INVALID_ARGUMENT;
  *is_mig = is_mig_handle(device) ? 1 : 0;
  return NVML_SUCCESS;
}

// The ids of an instance; a whole GPU has none (NOT_SUPPORTED).
static nvmlReturn_t instance_id(nvmlDevice_t device, const char* symbol, const char* key, unsigned int* id) {
  const json* entry = nullptr;
  if (nvmlReturn_t code = check_device_or_instance(device, symbol, entry); code != NVML_SUCCESS) return code;
  if (!is_mig_handle(device)) return NVML_ERROR_NOT_SUPPORTED;
  if (!id) return NVML_ERROR_INVALID_ARGUMENT;
  return reading(*entry, key, *id);
}

static nvmlReturn_t impl_nvmlDeviceGetGpuInstanceId(nvmlDevice_t device, unsigned int* id) {
  return instance_id(device, "nvmlDeviceGetGpuInstanceId", "gpu_instance_id", id);
}

static nvmlReturn_t impl_nvmlDeviceGetComputeInstanceId(nvmlDevice_t device, unsigned int* id) {
  return instance_id(device, "nvmlDeviceGetComputeInstanceId", "compute_instance_id", id);
}

// An instance's slices and memory ("compute_slices" defaults to "gpu_slices": one compute
// instance over the whole GPU instance); the double answers NOT_SUPPORTED on whole GPUs.
static nvmlReturn_t impl_nvmlDeviceGetAttributes_v2(nvmlDevice_t device, nvmlDeviceAttributes_t* out) {
  const json* entry = nullptr;
  if (nvmlReturn_t code = check_device_or_instance(device, "nvmlDeviceGetAttributes_v2", entry);
      code != NVML_SUCCESS) {
    return code;
  }
  if (!is_mig_handle(device)) return NVML_ERROR_NOT_SUPPORTED;
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  *out = nvmlDeviceAttributes_t{};
  out->gpuInstanceSliceCount = entry->value("gpu_slices", 0u);
  out->computeInstanceSliceCount = entry->value("compute_slices", out->gpuInstanceSliceCount);
  out->memorySizeMB = entry->value("memory_total_mib", 0ull);
  return NVML_SUCCESS;
}

NVML_DOUBLE_SYMBOL(nvmlDeviceGetMigMode, nvmlReturn_t, (nvmlDevice_t device, unsigned int* current, unsigned int* pending))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetMaxMigDeviceCount, nvmlReturn_t, (nvmlDevice_t device, unsigned int* count))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetMigDeviceHandleByIndex, nvmlReturn_t,
                   (nvmlDevice_t device, unsigned int index, nvmlDevice_t* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetDeviceHandleFromMigDeviceHandle, nvmlReturn_t, (nvmlDevice_t device, nvmlDevice_t* out))
NVML_DOUBLE_SYMBOL(nvmlDeviceIsMigDeviceHandle, nvmlReturn_t, (nvmlDevice_t device, unsigned int* is_mig))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetGpuInstanceId, nvmlReturn_t, (nvmlDevice_t device, unsigned int* id))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetComputeInstanceId, nvmlReturn_t, (nvmlDevice_t device, unsigned int* id))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetAttributes_v2, nvmlReturn_t, (nvmlDevice_t device, nvmlDeviceAttributes_t* out))

// Topology. Per GPU: "local_cpus" ("0-23,48-71") and "numa_node"; per machine:
// "topology": {"pcie": rows of nvidia-smi topo -m labels, "nvlinks": [[a, b, count]],
// "nvswitch_links": {"index": count}}. What the file leaves out answers NOT_SUPPORTED.
namespace {

const json* topology() {
  const json& machine = state().machine;
  return machine.contains("topology") && machine["topology"].is_object() ? &machine["topology"] : nullptr;
}

// Sets the bits of a "0-3,8" list in a mask of `words` 64-bit words.
bool fill_mask(const std::string& list, unsigned words, unsigned long* mask) {
  std::memset(mask, 0, words * sizeof(unsigned long));
  std::optional<wg::CpuSet> set = wg::CpuSet::parse(list);
  if (!set) return false;
  std::copy_n(set->words().begin(), std::min<std::size_t>(words, set->words().size()), mask);
  return true;
}

int topology_level(const std::string& label) {
  static const std::map<std::string, int> levels = {
      {"BRD", NVML_TOPOLOGY_INTERNAL}, {"PIX", NVML_TOPOLOGY_SINGLE}, {"PXB", NVML_TOPOLOGY_MULTIPLE},
      {"PHB", NVML_TOPOLOGY_HOSTBRIDGE}, {"NODE", NVML_TOPOLOGY_NODE}, {"SYS", NVML_TOPOLOGY_SYSTEM}};
  auto found = levels.find(label);
  return found == levels.end() ? -1 : found->second;
}

// The machine file's topology parsed once per reload: a 64-GPU machine asks for 2,016
// pairs, and re-reading JSON each time would make the double, not with-gpu, the cost.
struct TopologyCache {
  unsigned generation = ~0u;
  std::vector<std::vector<int>> levels;  // NVML level per pair, -1 unknown
  std::vector<std::vector<int>> peers;   // per GPU, per link: the GPU it reaches, -1 NVSwitch
};

std::vector<int> parse_row(const std::string& row) {
  std::vector<int> cells;
  std::size_t start = 0;
  while (start < row.size()) {
    std::size_t begin = row.find_first_not_of(' ', start);
    if (begin == std::string::npos) break;
    std::size_t end = std::min(row.find(' ', begin), row.size());
    cells.push_back(topology_level(row.substr(begin, end - begin)));
    start = end;
  }
  return cells;
}

void fill_peers(const json& topo, std::vector<std::vector<int>>& peers) {
  if (topo.contains("nvlinks")) {
    for (const auto& entry : topo["nvlinks"]) {
      unsigned a = entry[0], b = entry[1], count = entry[2];
      if (a >= peers.size() || b >= peers.size()) continue;
      for (unsigned i = 0; i < count; ++i) {
        peers[a].push_back(static_cast<int>(b));
        peers[b].push_back(static_cast<int>(a));
      }
    }
  }
  if (topo.contains("nvswitch_links")) {
    for (std::size_t index = 0; index < peers.size(); ++index) {
      unsigned count = topo["nvswitch_links"].value(std::to_string(index), 0u);
      for (unsigned i = 0; i < count; ++i) peers[index].push_back(-1);
    }
  }
}

const TopologyCache& topology_cache() {
  static TopologyCache cache;
  if (cache.generation == state().generation) return cache;
  cache = TopologyCache{};
  cache.generation = state().generation;
  std::size_t count = state().machine.contains("gpus") ? state().machine["gpus"].size() : 0;
  cache.peers.assign(count, {});
  const json* topo = topology();
  if (!topo) return cache;
  if (topo->contains("pcie")) {
    for (const auto& row : (*topo)["pcie"]) cache.levels.push_back(parse_row(row.get<std::string>()));
  }
  fill_peers(*topo, cache.peers);
  return cache;
}

// The NVLinks of GPU `index`, in link order: the GPU each one reaches, or -1 for NVSwitch.
const std::vector<int>& nvlink_peers(unsigned index) {
  static const std::vector<int> none;
  const auto& peers = topology_cache().peers;
  return index < peers.size() ? peers[index] : none;
}

// NVML's level for the pair, from row a, column b of "pcie"; -1 when not given.
int pcie_level(unsigned a, unsigned b) {
  const auto& levels = topology_cache().levels;
  return a < levels.size() && b < levels[a].size() ? levels[a][b] : -1;
}

}  // namespace

static nvmlReturn_t impl_nvmlDeviceGetCpuAffinity(nvmlDevice_t device, unsigned int size, unsigned long* cpus) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetCpuAffinity", gpu); code != NVML_SUCCESS) return code;
  if (!gpu->contains("local_cpus") || !(*gpu)["local_cpus"].is_string()) return NVML_ERROR_NOT_SUPPORTED;
  return fill_mask((*gpu)["local_cpus"], size, cpus) ? NVML_SUCCESS : NVML_ERROR_UNKNOWN;
}

static nvmlReturn_t impl_nvmlDeviceGetMemoryAffinity(nvmlDevice_t device, unsigned int size, unsigned long* nodes,
                                                     int scope) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetMemoryAffinity", gpu); code != NVML_SUCCESS) return code;
  if (scope != NVML_AFFINITY_SCOPE_NODE && scope != NVML_AFFINITY_SCOPE_SOCKET) return NVML_ERROR_INVALID_ARGUMENT;
  if (!gpu->contains("numa_node") || !(*gpu)["numa_node"].is_number_unsigned()) return NVML_ERROR_NOT_SUPPORTED;
  return fill_mask(std::to_string((*gpu)["numa_node"].get<unsigned>()), size, nodes) ? NVML_SUCCESS
                                                                                    : NVML_ERROR_UNKNOWN;
}

static nvmlReturn_t impl_nvmlDeviceGetTopologyCommonAncestor(nvmlDevice_t first, nvmlDevice_t second, int* level) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(first, "nvmlDeviceGetTopologyCommonAncestor", gpu); code != NVML_SUCCESS) {
    return code;
  }
  if (nvmlReturn_t code = check_device(second, "nvmlDeviceGetTopologyCommonAncestor", gpu); code != NVML_SUCCESS) {
    return code;
  }
  int found = pcie_level(index_of(first), index_of(second));
  if (found < 0) return NVML_ERROR_NOT_SUPPORTED;
  *level = found;
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceGetNvLinkState(nvmlDevice_t device, unsigned int link, int* active) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetNvLinkState", gpu); code != NVML_SUCCESS) return code;
  const auto& peers = nvlink_peers(index_of(device));
  if (peers.empty()) return NVML_ERROR_NOT_SUPPORTED;
  if (link >= peers.size()) return NVML_ERROR_INVALID_ARGUMENT;
  *active = NVML_FEATURE_ENABLED;
  return NVML_SUCCESS;
}

static nvmlReturn_t impl_nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t device, unsigned int link, nvmlPciInfo_t* pci) {
  const json* gpu = nullptr;
  if (nvmlReturn_t code = check_device(device, "nvmlDeviceGetNvLinkRemotePciInfo_v2", gpu); code != NVML_SUCCESS) {
    return code;
  }
  const auto& peers = nvlink_peers(index_of(device));
  if (link >= peers.size()) return NVML_ERROR_INVALID_ARGUMENT;
  std::memset(pci, 0, sizeof *pci);
  std::string bus = "00000000:FE:00.0";  // an NVSwitch: no GPU has this bus id
  if (peers[link] >= 0) bus = state().machine["gpus"][static_cast<std::size_t>(peers[link])].value("pci_bus_id", "");
  std::snprintf(pci->busId, sizeof pci->busId, "%s", bus.c_str());
  return NVML_SUCCESS;
}

NVML_DOUBLE_SYMBOL(nvmlDeviceGetCpuAffinity, nvmlReturn_t, (nvmlDevice_t device, unsigned int size, unsigned long* cpus))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetMemoryAffinity, nvmlReturn_t,
                   (nvmlDevice_t device, unsigned int size, unsigned long* nodes, int scope))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetTopologyCommonAncestor, nvmlReturn_t,
                   (nvmlDevice_t first, nvmlDevice_t second, int* level))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetNvLinkState, nvmlReturn_t, (nvmlDevice_t device, unsigned int link, int* active))
NVML_DOUBLE_SYMBOL(nvmlDeviceGetNvLinkRemotePciInfo_v2, nvmlReturn_t,
                   (nvmlDevice_t device, unsigned int link, nvmlPciInfo_t* pci))
