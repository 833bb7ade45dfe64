#include "os/fd.hpp"

#include <unistd.h>

namespace wg {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

}  // namespace wg
