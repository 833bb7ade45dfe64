#pragma once
// The machine as read from the driver: plain data, no behavior beyond derived facts.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cpu_set.hpp"

namespace wg {

// A compute process NVML lists on a GPU. Memory is empty where NVML reports it as
// not available (containers, some drivers): that is unknown, not zero.
struct GpuProcess {
  unsigned pid = 0;
  std::optional<std::uint64_t> used_memory_bytes;
  std::optional<std::string> user;     // from /proc, for reports; empty when not visible
  std::optional<std::string> command;
};

enum class ClaimMode { exclusive, shared };

// A process holding a with-gpu claim on a GPU. User and command come from /proc and
// are empty when the process is gone or in another pid namespace. `inherited`: the
// claim is this process's own, through descriptors inherited from the with-gpu that
// launched an ancestor (a with-gpu run inside a with-gpu run); it keeps nobody out here.
struct ClaimHolder {
  int pid = 0;
  ClaimMode mode = ClaimMode::exclusive;
  std::optional<std::string> user;
  std::optional<std::string> command;
  bool inherited = false;
  // The claim is held through a lock file that has since been deleted (seen by a waiter
  // that kept the old file open): it still counts, but nobody can see it by name.
  bool file_deleted = false;
  // A task of this process's own Slurm job step (srun -n2 ... with-gpu): to share GPUs
  // within a step, its tasks need --share.
  bool same_job_step = false;
};

// What sits at a path where a GPU's lock file should be.
enum class FileType { regular, directory, symlink, fifo, socket, device, other };

// Why a GPU's lock file cannot be used. Only that GPU is unavailable; the others stay usable.
enum class LockFileProblem {
  not_regular,   // something other than a regular file sits at the path
  no_access,     // a regular file this user may not open (its mode or owner)
  cannot_create, // no file, and only root may create one (the hardened directory)
  linked,        // a regular file with more than one name: a hard link ties two GPUs together
  cannot_open,   // opening it fails for another reason (`error`: errno, e.g. a lease's EWOULDBLOCK)
};

struct LockProblem {
  LockFileProblem kind = LockFileProblem::not_regular;
  std::string path;
  FileType type = FileType::regular;
  std::optional<std::string> owner;  // user name (or uid) of the file, or of the directory for cannot_create
  unsigned mode = 0;                 // permission bits
  int error = 0;                     // errno, for cannot_open
  unsigned links = 1;                // names of the file, for linked
};

// Which part of a memory reading cannot be true: above the total, alone or together.
enum class MemoryFault { free_above_total, used_above_total, reserved_above_total, sum_above_total };

// A memory reading the driver answered that cannot be true (a broken or racing driver);
// trusted, it once made a GPU look 16 EiB free.
struct ImpossibleMemory {
  MemoryFault fault = MemoryFault::free_above_total;
  std::uint64_t total_bytes = 0;
  std::uint64_t used_bytes = 0;
  std::uint64_t free_bytes = 0;
  std::uint64_t reserved_bytes = 0;
};

// Whether this process may open a GPU, which is what CUDA counts: CUDA enumerates only the
// devices it can open, so a GPU a device cgroup denies (another Slurm job's) is no CUDA
// device at all and shifts the ordinals of those after it.
enum class DeviceAccess {
  accessible,             // nothing refused it (a device node that is missing says nothing)
  denied_by_driver,       // NVML refused its handle with NO_PERMISSION: nothing else is known of it
  denied_by_device_node,  // its /dev/nvidia<minor> exists and refuses this process (EPERM, EACCES)
};

// A GPU's MIG mode (A100, H100, H200, ...): in MIG mode its instances are what CUDA can
// use, not the whole GPU. A change of mode is pending until the GPU is reset.
enum class MigMode { disabled, enabled };

struct MigModes {
  MigMode current = MigMode::disabled;
  MigMode pending = MigMode::disabled;
};

// What makes a device a MIG instance: a slice of a parent GPU that CUDA uses as a device
// of its own, named `MIG-<uuid>` in CUDA_VISIBLE_DEVICES. A CUDA process enumerates only
// one MIG instance, so one value never names two instances, or an instance and a GPU.
struct MigInstance {
  unsigned parent_index = 0;         // NVML index of the parent GPU
  std::string parent_uuid;           // "GPU-..."
  unsigned slot = 0;                 // the index nvmlDeviceGetMigDeviceHandleByIndex took
  unsigned gpu_instance_id = 0;      // GI, as nvidia-smi shows it
  unsigned compute_instance_id = 0;  // CI
  unsigned gpu_slices = 0;           // the "3g" of 3g.40gb
  unsigned compute_slices = 0;       // the "1c" of 1c.3g.40gb; equal to gpu_slices when whole
  std::string profile;               // "3g.40gb", "1c.3g.40gb"
  unsigned device = 0;               // its place among its parent's instances, from 0
};

// One GPU. `error` set means NVML could not read it (handle or memory query failed):
// it is unusable and every other reading may be empty. A GPU NVML refuses to this process
// (DeviceAccess::denied_by_driver) is not broken, so it has no `error`, but it is not
// usable either: nothing could be read. An empty optional is a reading the driver does
// not provide (NOT_SUPPORTED, an old driver) and is shown as n/a.
//
// A MIG instance is a Gpu too, with `mig` set: its memory, processes and claim (keyed by
// its MIG- UUID) are its own, utilization is unknown (NVML does not report it per
// instance), temperature and power are its parent's. Instances follow every whole GPU in
// Machine::gpus, so `index` stays the position there.
struct Gpu {
  unsigned index = 0;  // NVML index, as nvidia-smi shows it; for an instance, its position in Machine::gpus
  std::string uuid;    // "GPU-..."
  std::string name;
  std::optional<std::string> pci_bus_id;  // "00000000:01:00.0"
  std::optional<std::string> error;
  // Refused GPUs are never counted as CUDA devices nor chosen; set by the NVML adapter
  // (the handle) and by the device-node check of the OS layer.
  DeviceAccess access = DeviceAccess::accessible;
  std::optional<unsigned> minor_number;  // N of /dev/nvidiaN; empty where the driver does not say

  // Memory as the driver reports it; all empty when the GPU is unusable or the reading
  // cannot be true (`impossible_memory` then keeps the driver's numbers, for messages).
  std::optional<std::uint64_t> memory_total_bytes;
  std::optional<std::uint64_t> memory_used_bytes;
  std::optional<std::uint64_t> memory_free_bytes;
  std::optional<std::uint64_t> memory_reserved_bytes;  // only from the v2 memory query
  std::optional<ImpossibleMemory> impossible_memory;

  std::optional<unsigned> utilization_percent;      // instantaneous
  std::optional<double> utilization_avg_percent;    // mean over the sample window
  std::optional<unsigned> temperature_c;            // GPU core sensor
  std::optional<double> power_w;                    // instantaneous draw
  std::optional<double> power_avg_w;                // mean over the sample window
  std::optional<double> power_limit_w;              // enforced limit
  std::optional<std::vector<GpuProcess>> processes;  // empty optional: list refused

  std::optional<int> numa_node;     // NUMA node of its PCIe root; empty: unknown or no NUMA
  std::optional<CpuSet> local_cpus;  // CPUs the driver calls ideal for it

  std::optional<MigModes> mig_modes;  // empty: the GPU has no MIG (or the driver does not say)
  std::optional<MigInstance> mig;     // set: this is a MIG instance

  std::vector<ClaimHolder> claims;  // filled in by the claims layer, not by NVML
  std::optional<LockProblem> lock_problem;  // likewise: its lock file cannot be used

  // NVML read it: not broken and not refused to this process.
  bool usable() const { return !error.has_value() && access != DeviceAccess::denied_by_driver; }
  // This process may open it, so CUDA counts it.
  bool accessible() const { return access == DeviceAccess::accessible; }
  // A whole GPU in MIG mode: CUDA uses its instances, not the GPU itself.
  bool split_by_mig() const { return mig_modes && mig_modes->current == MigMode::enabled && !mig; }
};

// How people name a device: "GPU 3" for a whole GPU, "GPU 0 MIG 3g.40gb #1" for the
// second instance of GPU 0.
std::string device_label(const Gpu& gpu);

// "3g.40gb", or "1c.3g.40gb" for a compute instance smaller than its GPU instance, as
// nvidia-smi names MIG profiles; memory in GB is rounded up, as NVIDIA's names are.
std::string mig_profile_name(unsigned gpu_slices, unsigned compute_slices, std::uint64_t memory_mib);

// The closest PCIe element two GPUs share (NVML's common ancestor), best first, named
// as `nvidia-smi topo -m` prints them (BRD: two GPUs on one board, NVML's INTERNAL).
enum class PciePath { brd, pix, pxb, phb, node, sys };

// How two GPUs are connected. An empty path is unknown (a virtual machine, an old
// driver); nvlinks counts the active NVLinks between them, directly or via NVSwitch.
struct GpuLink {
  std::optional<PciePath> pcie;
  unsigned nvlinks = 0;
};

// What with-gpu asks the driver for beyond the basics: topology costs NVML calls (one
// per GPU pair), so a query reads it only when the decision or the report needs it.
enum class TopologyDetail { none, locality, links };

// Everything one query of the driver returns.
struct Machine {
  std::optional<std::string> driver_version;
  std::optional<std::string> nvml_version;
  std::optional<int> cuda_driver_version;  // e.g. 12040 for 12.4
  std::vector<Gpu> gpus;
  // links[a][b] for NVML indices a and b; empty unless links were asked for.
  std::vector<std::vector<GpuLink>> links;
};

// The link between GPUs a and b; unknown when links were not read.
GpuLink link_between(const Machine& machine, unsigned a, unsigned b);

// "BRD", "PIX", "PXB", "PHB", "NODE" or "SYS", as nvidia-smi topo -m prints the path.
const char* pcie_label(PciePath path);

// "NV4", "PIX", ..., "SYS"; "?" when unknown.
std::string link_label(const GpuLink& link);

// A reading as the filters use it: the window's mean where the driver keeps samples,
// else the instantaneous value.
struct Reading {
  double value = 0;
  bool averaged = false;
};

std::optional<Reading> utilization_reading(const Gpu& gpu);
std::optional<Reading> power_reading(const Gpu& gpu);

// 0.5's thresholds, kept as they were.
constexpr std::uint64_t kIdleUsedBelowBytes = 500ull * 1024 * 1024;
constexpr std::uint64_t kHiddenUsageAboveBytes = 512ull * 1024 * 1024;
constexpr std::uint64_t kLowFreeWarningBytes = 2048ull * 1024 * 1024;

// Records a memory reading on `gpu`: the numbers when they can be true, else memory stays
// unknown and `impossible_memory` says why (free, used or reserved above the total, or free
// and used together above it). Compares without subtracting, so nothing wraps around.
void set_memory(Gpu& gpu, std::uint64_t total, std::uint64_t used, std::uint64_t free,
                std::optional<std::uint64_t> reserved);

// Memory used that NVML's process list does not account for. Empty where that is
// unknown: memory is unknown, the list was refused, or some process's memory is reported
// as not available.
std::optional<std::uint64_t> hidden_usage_bytes(const Gpu& gpu);

// True when hidden usage is known and above the 512 MiB threshold.
bool has_suspected_hidden_usage(const Gpu& gpu);

// Idle: the process list is known and empty, and less than 500 MiB is used.
// A GPU is never idle on unknown evidence.
bool is_idle(const Gpu& gpu);

// Number of compute processes, or empty when the list was refused.
std::optional<std::size_t> process_count(const Gpu& gpu);

// The first holder whose claim keeps a claim of mode `wanted` out: any holder for an
// exclusive claim, an exclusive holder for a shared one; an inherited claim only when it
// is shared and `wanted` is exclusive (an exclusive claim cannot nest in a shared one).
// Null when the GPU is free.
const ClaimHolder* blocking_holder(const Gpu& gpu, ClaimMode wanted);

// "alice, python train.py": who holds a claim, as far as it is known ("" if nothing is).
std::string describe_holder(const ClaimHolder& holder);

}  // namespace wg
