#include "os/proc_locks.hpp"

#include <cstdio>
#include <sstream>
#include <string>

namespace wg {

std::map<FileKey, std::vector<ClaimHolder>> parse_proc_locks(std::istream& in) {
  std::map<FileKey, std::vector<ClaimHolder>> holders;
  std::string line;
  while (std::getline(in, line)) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:1234567 0 EOF"; waiters have "->" after the id.
    std::istringstream fields(line);
    std::string id, kind, advisory, access, file;
    int pid = 0;
    if (!(fields >> id >> kind) || kind != "FLOCK") continue;
    if (!(fields >> advisory >> access >> pid >> file)) continue;
    unsigned major = 0;
    unsigned minor = 0;
    unsigned long inode = 0;
    if (std::sscanf(file.c_str(), "%x:%x:%lu", &major, &minor, &inode) != 3) continue;
    ClaimMode mode = access == "WRITE" ? ClaimMode::exclusive : ClaimMode::shared;
    holders[{major, minor, inode}].push_back({pid, mode, {}, {}});
  }
  return holders;
}

}  // namespace wg
