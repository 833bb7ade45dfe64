#include "nvml/nvml_gpu_source.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

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

// MIG. The machines of examples/machines, read through the real loader and the double.
std::string machine_file(const std::string& name) {
  std::ifstream in(std::string(MACHINES_DIR) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `json` with `text` inserted just after the first occurrence of `after`.
std::string with_inserted(std::string json, const std::string& after, const std::string& text) {
  return json.insert(json.find(after) + after.size(), text);
}

TEST_F(NvmlSourceTest, AppendsTheInstancesOfAGpuInMigModeAfterEveryWholeGpu) {
  auto machine = query(machine_file("h100-mig.json"));
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 5u);  // 2 GPUs, then 3 instances of GPU 0
  const Gpu& parent = machine->gpus[0];
  EXPECT_TRUE(parent.split_by_mig());
  ASSERT_TRUE(parent.mig_modes);
  EXPECT_EQ(parent.mig_modes->current, MigMode::enabled);
  EXPECT_EQ(parent.mig_modes->pending, MigMode::enabled);
  EXPECT_FALSE(parent.mig);
  ASSERT_TRUE(machine->gpus[1].mig_modes);
  EXPECT_EQ(machine->gpus[1].mig_modes->current, MigMode::disabled);
  EXPECT_FALSE(machine->gpus[1].split_by_mig());

  const char* uuids[] = {"MIG-4f6a8c2e-1b3d-5e7f-9a0b-2c4d6e8f0a1b", "MIG-8b1d3f5a-7c9e-5b2d-8f4a-6e0c2a4b6d8f",
                         "MIG-c2e4a6b8-0d1f-5a3c-b5e7-9f1a3c5e7b9d"};
  const char* profiles[] = {"3g.40gb", "2g.20gb", "2g.20gb"};
  const unsigned gpu_instances[] = {1, 3, 4};
  const unsigned slices[] = {3, 2, 2};
  const std::uint64_t memory_mib[] = {40192, 19968, 19968};
  for (unsigned i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const Gpu& instance = machine->gpus[2 + i];
    EXPECT_EQ(instance.index, 2 + i);
    EXPECT_TRUE(instance.usable());
    EXPECT_FALSE(instance.split_by_mig());
    EXPECT_FALSE(instance.mig_modes);
    EXPECT_EQ(instance.uuid, uuids[i]);
    EXPECT_EQ(instance.name, "NVIDIA H100 80GB HBM3");
    ASSERT_TRUE(instance.mig);
    EXPECT_EQ(instance.mig->parent_index, 0u);
    EXPECT_EQ(instance.mig->parent_uuid, "GPU-7d2c4a91-3b5e-4f08-a6c1-92e0d4b8f310");
    EXPECT_EQ(instance.mig->slot, i);
    EXPECT_EQ(instance.mig->device, i);
    EXPECT_EQ(instance.mig->gpu_instance_id, gpu_instances[i]);
    EXPECT_EQ(instance.mig->compute_instance_id, 0u);
    EXPECT_EQ(instance.mig->gpu_slices, slices[i]);
    EXPECT_EQ(instance.mig->compute_slices, slices[i]);
    EXPECT_EQ(instance.mig->profile, profiles[i]);
    EXPECT_EQ(instance.memory_total_bytes, memory_mib[i] * kMiB);
    // The parent's sensors and placement; no utilization of its own, which is unknown, not 0.
    EXPECT_EQ(instance.temperature_c, 44u);
    EXPECT_DOUBLE_EQ(*instance.power_w, 131.6);
    EXPECT_DOUBLE_EQ(*instance.power_limit_w, 700.0);
    EXPECT_EQ(instance.pci_bus_id, "00000000:18:00.0");
    EXPECT_EQ(instance.minor_number, 0u);
    EXPECT_FALSE(instance.utilization_percent);
    EXPECT_FALSE(instance.utilization_avg_percent);
    EXPECT_EQ(device_label(instance), "GPU 0 MIG " + std::string(profiles[i]) + " #" + std::to_string(i));
  }
}

TEST_F(NvmlSourceTest, ReadsMemoryAndProcessesOnEachInstancesOwnHandle) {
  auto machine = query(machine_file("h100-mig.json"));
  ASSERT_TRUE(machine) << machine.error().message;
  const Gpu& busy = machine->gpus[3];
  EXPECT_EQ(busy.memory_used_bytes, 9241 * kMiB);
  EXPECT_EQ(busy.memory_free_bytes, (19968 - 9241) * kMiB);
  ASSERT_TRUE(busy.processes);
  ASSERT_EQ(busy.processes->size(), 1u);
  EXPECT_EQ((*busy.processes)[0].pid, 61234u);
  EXPECT_EQ((*busy.processes)[0].used_memory_bytes, 9216 * kMiB);
  for (unsigned idle : {2u, 4u}) {
    ASSERT_TRUE(machine->gpus[idle].processes);
    EXPECT_TRUE(machine->gpus[idle].processes->empty());
    EXPECT_TRUE(is_idle(machine->gpus[idle]));
  }
  EXPECT_EQ(machine->gpus[0].processes->size(), 1u);  // the parent lists every instance's processes
}

TEST_F(NvmlSourceTest, SkipsGapsInInstanceIndicesAndNamesComputeInstances) {
  auto machine = query(machine_file("a100-mig-gap.json"));
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 3u);
  const Gpu& first = machine->gpus[1];
  const Gpu& second = machine->gpus[2];
  ASSERT_TRUE(first.mig);
  ASSERT_TRUE(second.mig);
  EXPECT_EQ(first.mig->slot, 0u);
  EXPECT_EQ(first.mig->device, 0u);
  EXPECT_EQ(first.mig->profile, "3g.20gb");
  EXPECT_EQ(second.index, 2u);
  EXPECT_EQ(second.mig->slot, 3u);
  EXPECT_EQ(second.mig->device, 1u);
  EXPECT_EQ(second.mig->gpu_instance_id, 2u);
  EXPECT_EQ(second.mig->compute_instance_id, 1u);
  EXPECT_EQ(second.mig->gpu_slices, 3u);
  EXPECT_EQ(second.mig->compute_slices, 1u);
  EXPECT_EQ(second.mig->profile, "1c.3g.20gb");
  EXPECT_EQ(second.uuid, "MIG-6a3b9d1e-2f4c-5a7d-b8e0-1c3e5a7f9b2d");
  ASSERT_EQ(first.processes->size(), 1u);
  EXPECT_EQ((*first.processes)[0].pid, 7311u);
  EXPECT_TRUE(second.processes->empty());
}

TEST_F(NvmlSourceTest, AGapAnsweredWithInvalidArgumentIsAGapToo) {
  auto machine = query(with_inserted(machine_file("a100-mig-gap.json"), R"("max_devices": 7,)",
                                     R"( "gap": "INVALID_ARGUMENT",)"));
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 3u);
  EXPECT_EQ(machine->gpus[2].mig->slot, 3u);
}

// Without a handle there is no UUID to launch or claim it by.
TEST_F(NvmlSourceTest, AnInstanceWhoseHandleIsRefusedIsLeftOutAndTheOthersAreRead) {
  auto machine = query(with_inserted(machine_file("a100-mig-gap.json"), R"("slot": 0,)",
                                     R"( "errors": {"nvmlDeviceGetMigDeviceHandleByIndex": "NO_PERMISSION"},)"));
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 2u);
  EXPECT_EQ(machine->gpus[1].mig->slot, 3u);
  EXPECT_EQ(machine->gpus[1].mig->device, 0u);
}

TEST_F(NvmlSourceTest, AnInstanceWhoseUuidCannotBeReadIsLeftOut) {
  auto machine = query(with_inserted(machine_file("a100-mig-gap.json"), R"("slot": 0,)",
                                     R"( "errors": {"nvmlDeviceGetUUID": "UNKNOWN"},)"));
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 2u);
  EXPECT_EQ(machine->gpus[1].mig->slot, 3u);
}

TEST_F(NvmlSourceTest, AnInstanceWhoseMemoryCannotBeReadIsUnusableWithNvmlsText) {
  auto machine = query(with_inserted(machine_file("a100-mig-gap.json"), R"("slot": 3,)",
                                     R"( "errors": {"nvmlDeviceGetMemoryInfo": "UNKNOWN"},)"));
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 3u);
  EXPECT_TRUE(machine->gpus[1].usable());
  const Gpu& broken = machine->gpus[2];
  EXPECT_EQ(broken.error, "Unknown Error");
  EXPECT_FALSE(broken.usable());
  EXPECT_EQ(broken.uuid, "MIG-6a3b9d1e-2f4c-5a7d-b8e0-1c3e5a7f9b2d");
  EXPECT_FALSE(broken.memory_total_bytes);
}

TEST_F(NvmlSourceTest, RecordsAPendingModeAndKeepsTheGpuWhole) {
  auto machine = query(machine_file("mig-pending.json"));
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 2u);
  const Gpu& gpu = machine->gpus[0];
  ASSERT_TRUE(gpu.mig_modes);
  EXPECT_EQ(gpu.mig_modes->current, MigMode::disabled);
  EXPECT_EQ(gpu.mig_modes->pending, MigMode::enabled);
  EXPECT_FALSE(gpu.split_by_mig());
  EXPECT_EQ(gpu.utilization_percent, 0u);
  EXPECT_EQ(machine->gpus[1].mig_modes->pending, MigMode::disabled);
}

TEST_F(NvmlSourceTest, MachinesWithoutMigAreReadAsBefore) {
  const std::pair<const char*, std::size_t> machines[] = {{"workstation-4x3090.json", 4},
                                                          {"server-8gpu-mixed.json", 8},
                                                          {"workstation-old-driver.json", 2},
                                                          {"server-2socket-nvlink.json", 8}};
  for (const auto& [name, gpus] : machines) {
    SCOPED_TRACE(name);
    auto machine = query(machine_file(name));
    ASSERT_TRUE(machine) << machine.error().message;
    EXPECT_EQ(machine->gpus.size(), gpus);
    for (const Gpu& gpu : machine->gpus) {
      EXPECT_FALSE(gpu.mig_modes);
      EXPECT_FALSE(gpu.mig);
    }
  }
}

TEST_F(NvmlSourceTest, ADriverWithoutMigSymbolsHasNoMig) {
  std::string json = machine_file("h100-mig.json");
  json.insert(1, R"("missing_symbols": ["nvmlDeviceGetMigMode"], )");
  auto machine = query(json);
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 2u);
  EXPECT_FALSE(machine->gpus[0].mig_modes);
  EXPECT_FALSE(machine->gpus[0].split_by_mig());
}

TEST_F(NvmlSourceTest, AnInstanceWhoseAttributesAreRefusedHasNoProfileButIsStillOffered) {
  std::string json = machine_file("h100-mig.json");
  json.insert(1, R"("missing_symbols": ["nvmlDeviceGetAttributes_v2"], )");
  auto machine = query(json);
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 5u);
  EXPECT_TRUE(machine->gpus[2].usable());
  EXPECT_EQ(machine->gpus[2].mig->profile, "");
  EXPECT_EQ(machine->gpus[2].mig->gpu_slices, 0u);
  EXPECT_EQ(machine->gpus[2].mig->gpu_instance_id, 1u);
}

TEST_F(NvmlSourceTest, LinksJoinWholeGpusOnlyAndInstancesShareTheirParentsLocality) {
  std::string json = machine_file("h100-mig.json");
  json.insert(1, R"("topology": {"pcie": ["X NODE", "NODE X"], "nvswitch_links": {"0": 18, "1": 18}}, )");
  json = with_inserted(json, R"("minor_number": 0,)", R"( "numa_node": 0, "local_cpus": "0-31",)");
  auto source = open(json, NVML_DOUBLE);
  ASSERT_TRUE(source);
  auto machine = (*source)->query(TopologyDetail::links);
  ASSERT_TRUE(machine) << machine.error().message;
  ASSERT_EQ(machine->gpus.size(), 5u);
  EXPECT_EQ(machine->links.size(), 2u);
  EXPECT_EQ(link_label(link_between(*machine, 0, 1)), "NV18");
  EXPECT_EQ(link_label(link_between(*machine, 2, 3)), "?");
  EXPECT_EQ(link_label(link_between(*machine, 1, 4)), "?");
  EXPECT_EQ(machine->gpus[3].numa_node, 0);
  EXPECT_EQ(machine->gpus[3].local_cpus->to_string(), "0-31");

  machine->links.clear();
  (*source)->read_links(*machine, {0, 1, 2, 3, 4});
  EXPECT_EQ(machine->links.size(), 2u);
  EXPECT_EQ(link_label(link_between(*machine, 0, 1)), "NV18");
  EXPECT_EQ(link_label(link_between(*machine, 3, 4)), "?");
}

// The entry points with-gpu binds but does not need for a query, against the double's ABI.
TEST_F(NvmlSourceTest, TheDoubleAnswersMigHandlesAsNvmlDoes) {
  auto source = open(machine_file("h100-mig.json"), NVML_DOUBLE);
  ASSERT_TRUE(source);
  const NvmlApi& api = (*source)->library().api();
  ASSERT_TRUE(api.get_mig_parent && api.is_mig_handle && api.processes_v3);
  nvmlDevice_t parent = nullptr;
  nvmlDevice_t instance = nullptr;
  nvmlDevice_t whole = nullptr;
  ASSERT_EQ(api.get_handle(0, &parent), NVML_SUCCESS);
  ASSERT_EQ(api.get_handle(1, &whole), NVML_SUCCESS);
  ASSERT_EQ(api.get_mig_handle(parent, 1, &instance), NVML_SUCCESS);
  EXPECT_NE(instance, parent);
  EXPECT_NE(instance, whole);
  nvmlDevice_t found = nullptr;
  EXPECT_EQ(api.get_mig_parent(instance, &found), NVML_SUCCESS);
  EXPECT_EQ(found, parent);
  EXPECT_EQ(api.get_mig_parent(parent, &found), NVML_ERROR_INVALID_ARGUMENT);
  unsigned is_mig = 2;
  EXPECT_EQ(api.is_mig_handle(instance, &is_mig), NVML_SUCCESS);
  EXPECT_EQ(is_mig, 1u);
  EXPECT_EQ(api.is_mig_handle(parent, &is_mig), NVML_SUCCESS);
  EXPECT_EQ(is_mig, 0u);
  EXPECT_EQ(api.get_mig_handle(parent, 5, &found), NVML_ERROR_NOT_FOUND);     // a free slot
  EXPECT_EQ(api.get_mig_handle(parent, 7, &found), NVML_ERROR_INVALID_ARGUMENT);  // past the last
  EXPECT_EQ(api.get_mig_handle(whole, 0, &found), NVML_ERROR_NOT_SUPPORTED);  // MIG off
  nvmlUtilization_t utilization{};
  EXPECT_EQ(api.get_utilization(instance, &utilization), NVML_ERROR_NOT_SUPPORTED);
  unsigned celsius = 0;
  EXPECT_EQ(api.get_temperature(instance, NVML_TEMPERATURE_GPU, &celsius), NVML_ERROR_NOT_SUPPORTED);

  // Process entries on an instance carry its GPU and compute instance ids.
  nvmlProcessInfo_v2_t entries[4]{};
  unsigned count = 4;
  ASSERT_EQ(api.processes_v3(instance, &count, entries), NVML_SUCCESS);
  ASSERT_EQ(count, 1u);
  EXPECT_EQ(entries[0].pid, 61234u);
  EXPECT_EQ(entries[0].gpuInstanceId, 3u);
  EXPECT_EQ(entries[0].computeInstanceId, 0u);
}

}  // namespace
}  // namespace wg
