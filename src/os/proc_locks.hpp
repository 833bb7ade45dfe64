#pragma once
// Who holds flock()s, read from the kernel's /proc/locks: exact, and no bookkeeping
// files that a crashed holder could leave behind.

#include <chrono>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/gpu.hpp"

namespace wg {

// A file as /proc/locks names it: device major, minor and inode number.
using FileKey = std::tuple<unsigned, unsigned, unsigned long>;

// Parses /proc/locks text: FLOCK holders only (blocked waiters, POSIX and OFD locks
// are skipped). WRITE is an exclusive claim, READ a shared one.
std::map<FileKey, std::vector<ClaimHolder>> parse_proc_locks(std::istream& in);

// The flock()s held through one open file, from the "lock:" lines of its
// /proc/PID/fdinfo/FD text (the kernel lists only locks taken through that very file).
std::map<FileKey, std::vector<ClaimHolder>> parse_fdinfo_locks(const std::string& fdinfo);

// The mode of the flock() that this process's descriptor `fd` holds on `key`; empty when
// the descriptor is not that file or holds no lock on it.
std::optional<ClaimMode> flock_held_through(int fd, const FileKey& key);

// Every process whose open files hold a flock() on `key`, found through the
// /proc/PID/fdinfo files this process may read (its own user's, or all as root), as far
// as the search gets before `deadline` (a user with a million descriptors must not stall it).
std::vector<int> processes_holding(const FileKey& key, std::chrono::steady_clock::time_point deadline);

// True when process `pid` holds a flock() on `key` through one of its descriptors; empty
// when its descriptors cannot be read (another user's process) or `deadline` passed first.
std::optional<bool> process_holds(int pid, const FileKey& key,
                                  std::chrono::steady_clock::time_point deadline =
                                      std::chrono::steady_clock::time_point::max());

}  // namespace wg
