#pragma once
// Opening a directory by a path that other users may be able to change: every step is
// taken through a descriptor, and a symbolic link on the way is followed only when
// nobody but root or this user could have put it there.

#include <sys/stat.h>

#include <string>

#include "core/result.hpp"
#include "os/fd.hpp"

namespace wg {

// The sentences for a claims directory that is a symbolic link, or not a directory.
std::string symlink_refused(const std::string& path);
std::string not_a_directory(const std::string& path);

enum class CreateLast { no, yes };

struct OpenedDirectory {
  UniqueFd fd;
  struct stat info {};
  bool created = false;  // this call made the last component
};

// Opens the directory at the absolute `path`. A symbolic link among the leading
// components is followed only when root or this user owns it and its directory is
// either writable by nobody else or sticky (so nobody else may replace it); the last
// component is never followed. With CreateLast::yes a missing last component is made
// with `mode` (before the umask).
Result<OpenedDirectory> open_safe_directory(const std::string& path, CreateLast create, mode_t mode);

}  // namespace wg
