#pragma once
// One GPU's lock file in a directory other users can write: looked at before it is
// opened, opened without following links and without blocking, and checked to be the
// regular file that was looked at. Everything on disk is input.

#include <sys/stat.h>

#include <optional>
#include <string>

#include "core/gpu.hpp"
#include "os/fd.hpp"
#include "os/proc_locks.hpp"

namespace wg {

enum class Access { read_only, read_write };

// The result of opening a lock file: an open regular file, nothing there, a problem
// that makes this GPU unavailable, or an error of the system (errno in `error`).
struct OpenedLockFile {
  UniqueFd fd;
  FileKey key{};
  bool missing = false;
  std::optional<LockProblem> problem;
  int error = 0;
};

// Opens `name` in the directory `dir` (shown to users as `path`).
OpenedLockFile open_lock_file(int dir, const std::string& name, const std::string& path, Access access);

// Creates `name` in `dir` as an empty file every user may lock (mode 0666, whatever the
// umask). An existing file is left alone; one that cannot be given that mode is
// removed again. Returns 0 or errno.
int create_lock_file(int dir, const std::string& name);

// The key of what `name` in `dir` is now, without following links; empty when nothing is.
std::optional<FileKey> key_at(int dir, const std::string& name);

// The key /proc/locks uses for a file.
FileKey key_of(const struct stat& info);

// What kind of file `info` describes.
FileType file_type(const struct stat& info);

}  // namespace wg
