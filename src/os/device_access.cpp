#include "os/device_access.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace wg {

// access rather than open: the kernel's permission check (inode_permission) asks the
// device cgroup as well as the mode, so the answer is the one an open would get, while an
// open of /dev/nvidiaN would also run the driver's open, which initialises a GPU no other
// client holds (persistence mode off): slow, and the command's business. Plain access, not
// faccessat(AT_EACCESS): glibc would try faccessat2, which older container seccomp
// profiles answer with EPERM, and every GPU would look refused. with-gpu is not setuid, so
// the real ids access checks are the ones an open uses.
NodeAccess device_node_access(const std::string& path) {
  if (access(path.c_str(), R_OK | W_OK) == 0) return NodeAccess::allowed;
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
