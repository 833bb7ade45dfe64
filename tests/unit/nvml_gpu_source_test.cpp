#include "nvml/nvml_gpu_source.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "core/units.hpp"
#include "support/temp_dir.hpp"

namespace wg {
namespace {

// Loads the NVML double through the product's loader, answering from `machine_json`.
class NvmlSourceTest : public ::testing::Test {
 protected:
  Result<Machine> query(const std::string& machine_json, const char* library = NVML_DOUBLE,
                        TopologyDetail detail = TopologyDetail::links) {
    auto source = open(machine_json, library, std::chrono::milliseconds(5000));
    if (!source) return source.error();
    return (*source)->query(detail);
  }

  Result<std::unique_ptr<NvmlGpuSource>> open(const std::string& machine_json, const char* library,
                                              std::chrono::milliseconds window = std::chrono::milliseconds(5000)) {
    std::string path = temp / "machine.json";
    std::ofstream(path) << machine_json;
    setenv("NVML_DOUBLE_MACHINE", path.c_str(), 1);
    auto nvml = NvmlLibrary::open(library);
    if (!nvml) return nvml.error();
    return std::make_unique<NvmlGpuSource>(std::move(*nvml), window);
  }

  test::TempDir temp;
};

const char* kOneGpu = R"({"driver_version": "550.54.14", "nvml_version": "12.550.54.14", "cuda_driver_version": 12040,
  "gpus": [{"name": "NVIDIA A100-SXM4-80GB", "uuid": "GPU-11111111-2222-3333-4444-555555555555",
            "pci_bus_id": "00000000:07:00.0", "memory_total_mib": 81920, "memory_reserved_mib": 600,
            "memory_used_mib": 10000, "utilization_percent": 42, "temperature_c": 55, "power_w": 250.5,
            "power_limit_w": 400, "processes": [{"pid": 100, "used_memory_mib": 6000}, {"pid": 200, "used_memory_mib": 4000}]}]})";

TEST_F(NvmlSourceTest, ReadsEveryFieldThroughTheVersionedSymbols) {
  auto machine = query(kOneGpu);
  ASSERT_TRUE(machine) << machine.error().message;
  EXPECT_EQ(machine->driver_version, "550.54.14");
  EXPECT_EQ(machine->nvml_version, "12.550.54.14");
  EXPECT_EQ(machine->cuda_driver_version, 12040);
  ASSERT_EQ(machine->gpus.size(), 1u);
  const Gpu& gpu = machine->gpus[0];
  EXPECT_TRUE(gpu.usable());
  EXPECT_EQ(gpu.name, "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ(gpu.uuid, "GPU-11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(gpu.pci_bus_id, "00000000:07:00.0");
  EXPECT_EQ(gpu.memory_total_bytes, 81920 * kMiB);
  EXPECT_EQ(gpu.memory_used_bytes, 10000 * kMiB);
  EXPECT_EQ(gpu.memory_free_bytes, (81920 - 600 - 10000) * kMiB);
  EXPECT_EQ(gpu.memory_reserved_bytes, 600 * kMiB);
  EXPECT_EQ(gpu.utilization_percent, 42u);
  EXPECT_EQ(gpu.temperature_c, 55u);
  EXPECT_DOUBLE_EQ(*gpu.power_w, 250.5);
  EXPECT_DOUBLE_EQ(*gpu.power_limit_w, 400.0);
  ASSERT_TRUE(gpu.processes);
  ASSERT_EQ(gpu.processes->size(), 2u);
  EXPECT_EQ((*gpu.processes)[1].pid, 200u);
  EXPECT_EQ((*gpu.processes)[1].used_memory_bytes, 4000 * kMiB);
}

// The versioned entry points a pre-R450 driver does not export.
const char* kOldDriverMissing = R"("missing_symbols": ["nvmlInit_v2", "nvmlDeviceGetCount_v2", "nvmlDeviceGetHandleByIndex_v2", "nvmlSystemGetCudaDriverVersion_v2", "nvmlDeviceGetPciInfo_v2", "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetComputeRunningProcesses_v2",
    "nvmlDeviceGetComputeRunningProcesses_v3"], )";

TEST_F(NvmlSourceTest, FallsBackToTheUnversionedSymbolsOfAnOldDriver) {
  std::string json = kOneGpu;
  json.insert(1, kOldDriverMissing);
  auto machine = query(json);
  ASSERT_TRUE(machine) << machine.error().message;
  const Gpu& gpu = machine->gpus[0];
  EXPECT_TRUE(gpu.usable());
  EXPECT_FALSE(gpu.memory_reserved_bytes);  // v1 has no reserved field and counts it as used
  EXPECT_EQ(gpu.memory_used_bytes, 10600 * kMiB);
  EXPECT_EQ(gpu.pci_bus_id, "0000:07:00.0");  // the v1 PCI layout's short form
  ASSERT_TRUE(gpu.processes);
  ASSERT_EQ(gpu.processes->size(), 2u);  // 16-byte elements decoded as such
  EXPECT_EQ((*gpu.processes)[1].pid, 200u);
  EXPECT_EQ((*gpu.processes)[1].used_memory_bytes, 4000 * kMiB);
}

TEST_F(NvmlSourceTest, FallsBackToMemoryV1WhenV2IsRefused) {
  std::string json = kOneGpu;
  json.replace(json.find("\"processes\""), 0, R"("errors": {"nvmlDeviceGetMemoryInfo_v2": "NOT_SUPPORTED"}, )");
  auto machine = query(json);
  ASSERT_TRUE(machine);
  EXPECT_TRUE(machine->gpus[0].usable());
  EXPECT_FALSE(machine->gpus[0].memory_reserved_bytes);
}

TEST_F(NvmlSourceTest, AMemoryReadingThatCannotBeTrueLeavesMemoryUnknownButTheGpuUsable) {
  for (const char* missing : {"", kOldDriverMissing}) {
    std::string json = kOneGpu;
    json.replace(json.find("\"processes\""), 0, R"("memory_free_mib": 90000, )");
    json.insert(1, missing);
    auto machine = query(json);
    ASSERT_TRUE(machine) << machine.error().message;
    const Gpu& gpu = machine->gpus[0];
    EXPECT_TRUE(gpu.usable());
    EXPECT_FALSE(gpu.memory_free_bytes);
    EXPECT_FALSE(gpu.memory_total_bytes);
    ASSERT_TRUE(gpu.impossible_memory);
    EXPECT_EQ(gpu.impossible_memory->fault, MemoryFault::free_above_total);
    EXPECT_EQ(gpu.impossible_memory->free_bytes, 90000 * kMiB);
    EXPECT_EQ(gpu.temperature_c, 55u);  // the other readings are still read
  }
}

TEST_F(NvmlSourceTest, Reads535DriversWhoseV3ElementsGrewTo32Bytes) {
  auto machine = query(R"({"driver_version": "535.54.03", "gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000,
    "processes": [{"pid": 11, "used_memory_mib": 1}, {"pid": 22, "used_memory_mib": 2}, {"pid": 33, "used_memory_mib": 3}]}]})");
  ASSERT_TRUE(machine);
  const auto& processes = *machine->gpus[0].processes;
  ASSERT_EQ(processes.size(), 3u);
  EXPECT_EQ(processes[2].pid, 33u);
  EXPECT_EQ(processes[2].used_memory_bytes, 3 * kMiB);
}

TEST(ProcessV3Stride, Is32BytesOnlyFor535Point43To86) {
  EXPECT_EQ(process_v3_stride("535.43.02"), 32u);
  EXPECT_EQ(process_v3_stride("535.86.05"), 32u);
  EXPECT_EQ(process_v3_stride("535.98"), 24u);
  EXPECT_EQ(process_v3_stride("530.30.02"), 24u);
  EXPECT_EQ(process_v3_stride("550.54.14"), 24u);
  EXPECT_EQ(process_v3_stride(""), 24u);
}

TEST_F(NvmlSourceTest, RetriesTheProcessQueryWhenTheListGrewBetweenCalls) {
  std::string processes;
  for (int pid = 1; pid <= 40; ++pid) {
    if (pid > 1) processes += ',';
    processes += R"({"pid": )" + std::to_string(1000 + pid) + R"(, "used_memory_mib": 10})";
  }
  auto machine = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "process_count_understated_by": 35,
    "processes": [)" + processes + "]}]}");
  ASSERT_TRUE(machine);
  ASSERT_TRUE(machine->gpus[0].processes);
  ASSERT_EQ(machine->gpus[0].processes->size(), 40u);
  EXPECT_EQ(machine->gpus[0].processes->back().pid, 1040u);
}

TEST_F(NvmlSourceTest, ALostGpuIsUnusableWithNvmlsTextAndTheOthersAreRead) {
  auto machine = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "errors": {"nvmlDeviceGetMemoryInfo": "GPU_IS_LOST"}},
                                     {"uuid": "GPU-2", "memory_total_mib": 2000, "errors": {"nvmlDeviceGetHandleByIndex": "UNKNOWN"}},
                                     {"uuid": "GPU-3", "memory_total_mib": 3000}]})");
  ASSERT_TRUE(machine);
  ASSERT_EQ(machine->gpus.size(), 3u);
  EXPECT_EQ(machine->gpus[0].error, "GPU is lost");
  EXPECT_EQ(machine->gpus[1].error, "Unknown Error");
  EXPECT_TRUE(machine->gpus[2].usable());
  EXPECT_EQ(machine->gpus[2].memory_total_bytes, 3000 * kMiB);
}

// NVML's count includes the GPUs a device cgroup denies; their handles answer NO_PERMISSION.
TEST_F(NvmlSourceTest, AGpuWhoseHandleNvmlRefusesIsInaccessibleNotBroken) {
  auto machine = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "minor_number": 0,
                                      "errors": {"nvmlDeviceGetHandleByIndex": "NO_PERMISSION"}},
                                     {"uuid": "GPU-2", "memory_total_mib": 2000, "minor_number": 1}]})");
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 2u);
  const Gpu& refused = machine->gpus[0];
  EXPECT_EQ(refused.access, DeviceAccess::denied_by_driver);
  EXPECT_FALSE(refused.error);
  EXPECT_FALSE(refused.usable());
  EXPECT_TRUE(refused.uuid.empty());
  EXPECT_FALSE(refused.minor_number);
  EXPECT_EQ(machine->gpus[1].access, DeviceAccess::accessible);
  EXPECT_EQ(machine->gpus[1].minor_number, 1u);
}

TEST_F(NvmlSourceTest, TheMinorNumberIsUnknownWhereTheDriverDoesNotSay) {
  auto machine = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "minor_number": 3},
                                     {"uuid": "GPU-2", "memory_total_mib": 1000}]})");
  ASSERT_TRUE(machine);
  EXPECT_EQ(machine->gpus[0].minor_number, 3u);
  EXPECT_FALSE(machine->gpus[1].minor_number);
  auto old = query(R"({"missing_symbols": ["nvmlDeviceGetMinorNumber"], "gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000,
                       "minor_number": 3}]})");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->gpus[0].usable());
  EXPECT_FALSE(old->gpus[0].minor_number);
}

// The double opens device_path as NVML opens the device node: a node that opens, or that
// is missing, lets the handle through (only EPERM and EACCES refuse it: tests/e2e).
TEST_F(NvmlSourceTest, ADevicePathThatOpensOrIsMissingLetsTheHandleThrough) {
  auto machine = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "device_path": "/dev/null"},
                                     {"uuid": "GPU-2", "memory_total_mib": 1000, "device_path": "/nonexistent/nvidia1"}]})");
  ASSERT_TRUE(machine);
  EXPECT_TRUE(machine->gpus[0].accessible());
  EXPECT_TRUE(machine->gpus[0].usable());
  EXPECT_TRUE(machine->gpus[1].accessible());
  EXPECT_TRUE(machine->gpus[1].usable());
}

TEST_F(NvmlSourceTest, UnsupportedReadingsAreUnknownNotZero) {
  auto machine = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "utilization_percent": null,
    "errors": {"nvmlDeviceGetTemperature": "NOT_SUPPORTED", "nvmlDeviceGetPowerUsage": "NOT_SUPPORTED"}}]})");
  ASSERT_TRUE(machine);
  const Gpu& gpu = machine->gpus[0];
  EXPECT_TRUE(gpu.usable());
  EXPECT_FALSE(gpu.utilization_percent);
  EXPECT_FALSE(gpu.temperature_c);
  EXPECT_FALSE(gpu.power_w);
  EXPECT_FALSE(gpu.power_limit_w);
}

TEST_F(NvmlSourceTest, ARefusedProcessListIsUnknown) {
  auto machine = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000,
    "errors": {"nvmlDeviceGetComputeRunningProcesses": "NO_PERMISSION"}}]})");
  ASSERT_TRUE(machine);
  EXPECT_TRUE(machine->gpus[0].usable());
  EXPECT_FALSE(machine->gpus[0].processes);
}

TEST_F(NvmlSourceTest, UnattributedProcessMemoryIsUnknown) {
  auto machine = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "processes": [{"pid": 5, "used_memory_mib": null}]}]})");
  ASSERT_TRUE(machine);
  ASSERT_EQ(machine->gpus[0].processes->size(), 1u);
  EXPECT_FALSE((*machine->gpus[0].processes)[0].used_memory_bytes);
}

TEST_F(NvmlSourceTest, AMissingOptionalSymbolMakesItsReadingUnknown) {
  std::string json = kOneGpu;
  json.insert(1, R"("missing_symbols": ["nvmlDeviceGetTemperature", "nvmlDeviceGetPowerUsage"], )");
  auto machine = query(json);
  ASSERT_TRUE(machine);
  EXPECT_FALSE(machine->gpus[0].temperature_c);
  EXPECT_FALSE(machine->gpus[0].power_w);
  EXPECT_TRUE(machine->gpus[0].power_limit_w);
}

TEST_F(NvmlSourceTest, ALibraryWithoutAnInitSymbolIsNotNvml) {
  auto source = open(R"({"missing_symbols": ["nvmlInit", "nvmlInit_v2"], "gpus": []})", NVML_DOUBLE);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().kind, ErrorKind::nvml_unavailable);
  EXPECT_NE(source.error().message.find("is not a usable NVML library (required symbols are missing)"), std::string::npos);
}

TEST_F(NvmlSourceTest, AveragesTheSampleBufferOverTheWindowBackFromTheNewestSample) {
  const char* json = R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "utilization_percent": 3, "power_w": 50,
    "samples": {"utilization_percent": [[0, 10], [400, 30], [900, 50], [3000, 90]],
                "power_w": [[0, 100], [500, 200], [6000, 900]]}}]})";
  auto source = open(json, NVML_DOUBLE, std::chrono::milliseconds(1000));
  ASSERT_TRUE(source);
  auto machine = (*source)->query(TopologyDetail::none);
  ASSERT_TRUE(machine);
  const Gpu& gpu = machine->gpus[0];
  EXPECT_DOUBLE_EQ(*gpu.utilization_avg_percent, 30.0);  // 10, 30, 50: the 3 s old sample is outside
  EXPECT_DOUBLE_EQ(*gpu.power_avg_w, 150.0);             // milliwatts in the buffer, watts out
  EXPECT_EQ(gpu.utilization_percent, 3u);                // the instant stays available
}

TEST_F(NvmlSourceTest, NoSamplesOrARefusedBufferLeavesOnlyTheInstant) {
  auto empty = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "utilization_percent": 3}]})");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->gpus[0].utilization_avg_percent);
  EXPECT_EQ(empty->gpus[0].utilization_percent, 3u);
  auto refused = query(R"({"gpus": [{"uuid": "GPU-1", "memory_total_mib": 1000, "utilization_percent": 3,
    "samples": {"utilization_percent": [[0, 50]]}, "errors": {"nvmlDeviceGetSamples": "NOT_SUPPORTED"}}]})");
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->gpus[0].utilization_avg_percent);
}

TEST_F(NvmlSourceTest, AMissingLibraryIsOneSentenceOfKindNvmlUnavailable) {
  auto source = NvmlLibrary::open("/nonexistent/libnvidia-ml.so.1");
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().kind, ErrorKind::nvml_unavailable);
  const std::string& message = source.error().message;
  EXPECT_EQ(message.rfind("cannot load the NVIDIA driver library /nonexistent/libnvidia-ml.so.1 (", 0), 0u);
  EXPECT_NE(message.find("); install the NVIDIA driver, or set WITH_GPU_NVML_LIBRARY to libnvidia-ml.so.1's path"),
            std::string::npos);
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(NvmlSourceTest, ADriverThatIsNotLoadedSaysWhatToCheck) {
  auto source = open(R"({"errors": {"nvmlInit": "DRIVER_NOT_LOADED"}, "gpus": []})", NVML_DOUBLE);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message,
            "the NVIDIA kernel driver is not loaded (NVML: Driver Not Loaded); check that `nvidia-smi` works and the "
            "nvidia module is loaded");
}

TEST_F(NvmlSourceTest, ALibraryKernelMismatchSaysToReboot) {
  auto source = open(R"({"errors": {"nvmlInit": "LIB_RM_VERSION_MISMATCH"}, "gpus": []})", NVML_DOUBLE);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message,
            "the NVIDIA driver library and kernel module versions differ (NVML: RM has detected an NVML/RM version "
            "mismatch.); this follows a driver upgrade without a reboot: reboot or reload the nvidia module");
}

TEST_F(NvmlSourceTest, ALibraryWithoutNvmlSymbolsIsRefused) {
  auto source = NvmlLibrary::open("libm.so.6");
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message,
            "libm.so.6 is not a usable NVML library (required symbols are missing); check WITH_GPU_NVML_LIBRARY and "
            "the NVIDIA driver installation");
}

// Three GPUs: 0 and 1 on node 0 under one switch with 4 NVLinks, 2 on node 1.
const char* kTopology = R"({"topology": {"pcie": ["X PIX SYS", "PIX X SYS", "SYS SYS X"], "nvlinks": [[0, 1, 4]]},
  "gpus": [
    {"uuid": "GPU-a0", "pci_bus_id": "00000000:1A:00.0", "memory_total_mib": 1000, "memory_used_mib": 0,
     "numa_node": 0, "local_cpus": "0-15,32-47"},
    {"uuid": "GPU-a1", "pci_bus_id": "00000000:1B:00.0", "memory_total_mib": 1000, "memory_used_mib": 0,
     "numa_node": 0, "local_cpus": "0-15,32-47"},
    {"uuid": "GPU-a2", "pci_bus_id": "00000000:86:00.0", "memory_total_mib": 1000, "memory_used_mib": 0,
     "numa_node": 1, "local_cpus": "16-31,48-63"}]})";

TEST_F(NvmlSourceTest, ReadsLocalityPciePathsAndNvlinks) {
  auto machine = query(kTopology);
  ASSERT_TRUE(machine) << machine.error().message;
  EXPECT_EQ(machine->gpus[0].numa_node, 0);
  EXPECT_EQ(machine->gpus[2].numa_node, 1);
  EXPECT_EQ(machine->gpus[2].local_cpus->to_string(), "16-31,48-63");
  EXPECT_EQ(link_label(link_between(*machine, 0, 1)), "NV4");
  EXPECT_EQ(link_between(*machine, 1, 0).pcie, PciePath::pix);
  EXPECT_EQ(link_label(link_between(*machine, 0, 2)), "SYS");
  EXPECT_EQ(link_between(*machine, 2, 1).nvlinks, 0u);
}

TEST_F(NvmlSourceTest, ReadsNoTopologyUnlessAskedAndLinksOnlyForLinks) {
  auto none = query(kTopology, NVML_DOUBLE, TopologyDetail::none);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->gpus[0].local_cpus);
  EXPECT_TRUE(none->links.empty());
  auto locality = query(kTopology, NVML_DOUBLE, TopologyDetail::locality);
  ASSERT_TRUE(locality);
  EXPECT_EQ(locality->gpus[0].local_cpus->to_string(), "0-15,32-47");
  EXPECT_TRUE(locality->links.empty());
}

TEST_F(NvmlSourceTest, CountsNvswitchLinksBetweenEveryPairOfGpusThatReachTheSwitches) {
  std::string json = kTopology;
  json.replace(json.find(R"("nvlinks": [[0, 1, 4]])"), 22, R"("nvswitch_links": {"0": 18, "2": 12})");
  auto machine = query(json);
  ASSERT_TRUE(machine) << machine.error().message;
  EXPECT_EQ(link_label(link_between(*machine, 0, 2)), "NV12");
  EXPECT_EQ(link_label(link_between(*machine, 0, 1)), "PIX");  // GPU 1 has no NVLink
}

TEST_F(NvmlSourceTest, TopologyIsUnknownNotAnErrorWhenTheDriverLacksItOrRefusesIt) {
  std::string json = kTopology;
  json.insert(1, R"("missing_symbols": ["nvmlDeviceGetCpuAffinity", "nvmlDeviceGetMemoryAffinity",
                     "nvmlDeviceGetTopologyCommonAncestor", "nvmlDeviceGetNvLinkState"], )");
  auto machine = query(json);
  ASSERT_TRUE(machine) << machine.error().message;
  EXPECT_FALSE(machine->gpus[0].local_cpus);
  EXPECT_FALSE(machine->gpus[0].numa_node);
  EXPECT_EQ(link_label(link_between(*machine, 0, 1)), "?");

  json = kTopology;
  auto at = json.find(R"("numa_node": 1)");
  json.insert(at, R"("errors": {"nvmlDeviceGetCpuAffinity": "NOT_SUPPORTED", "nvmlDeviceGetNvLinkState": "UNKNOWN",
                                "nvmlDeviceGetTopologyCommonAncestor": "NOT_SUPPORTED"}, )");
  machine = query(json);
  ASSERT_TRUE(machine) << machine.error().message;
  EXPECT_FALSE(machine->gpus[2].local_cpus);
  EXPECT_EQ(machine->gpus[2].numa_node, 1);
  EXPECT_EQ(link_label(link_between(*machine, 0, 2)), "?");
  EXPECT_EQ(link_label(link_between(*machine, 0, 1)), "NV4");
}

}  // namespace
}  // namespace wg
