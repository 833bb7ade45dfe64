#pragma once
// Whether this process may open each GPU's device node. CUDA counts only the devices it
// can open, and a device cgroup (a Slurm job's, a container's) answers at the node.

#include <string>

#include "core/gpu.hpp"

namespace wg {

// What the kernel answers for opening a device node for reading and writing.
enum class NodeAccess { allowed, refused, unknown };

// Asks the kernel whether this process may open `path` for reading and writing, with
// its effective ids and without running the driver's open: refused for EPERM (a device
// cgroup) or EACCES (the node's mode); unknown for a missing node or any other error.
NodeAccess device_node_access(const std::string& path);

// Marks each GPU that is still accessible, has a minor number, and whose
// `dev_dir`/nvidia<minor> refuses this process as DeviceAccess::denied_by_device_node.
// Anything else leaves the GPU as it was. `dev_dir` is /dev but for tests.
void mark_refused_device_nodes(Machine& machine, const std::string& dev_dir = "/dev");

}  // namespace wg
