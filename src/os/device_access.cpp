#include "os/device_access.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace wg {

// faccessat rather than open: the kernel's permission check (inode_permission) asks the
// device cgroup as well as the mode, so the answer is the one an open would get, while an
// open of /dev/nvidiaN would also run the driver's open, which initialises a GPU no other
// client holds (persistence mode off): slow, and the command's business. AT_EACCESS: the
// effective ids, which an open uses.
NodeAccess device_node_access(const std::string& path) {
  if (faccessat(AT_FDCWD, path.c_str(), R_OK | W_OK, AT_EACCESS) == 0) return NodeAccess::allowed;
  return errno == EPERM || errno == EACCES ? NodeAccess::refused : NodeAccess::unknown;
}

void mark_refused_device_nodes(Machine& machine, const std::string& dev_dir) {
  for (auto& gpu : machine.gpus) {
    if (!gpu.accessible() || !gpu.minor_number) continue;
    std::string node = dev_dir + "/nvidia" + std::to_string(*gpu.minor_number);
    if (device_node_access(node) == NodeAccess::refused) gpu.access = DeviceAccess::denied_by_device_node;
  }
}

}  // namespace wg
