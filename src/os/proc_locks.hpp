#pragma once
// Who holds flock()s, read from the kernel's /proc/locks: exact, and no bookkeeping
// files that a crashed holder could leave behind.

#include <istream>
#include <map>
#include <tuple>
#include <vector>

#include "core/gpu.hpp"

namespace wg {

// A file as /proc/locks names it: device major, minor and inode number.
using FileKey = std::tuple<unsigned, unsigned, unsigned long>;

// Parses /proc/locks text: FLOCK holders only (blocked waiters, POSIX and OFD locks
// are skipped). WRITE is an exclusive claim, READ a shared one.
std::map<FileKey, std::vector<ClaimHolder>> parse_proc_locks(std::istream& in);

}  // namespace wg
