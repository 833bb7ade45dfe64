#include "os/lock_file.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "os/proc_info.hpp"

namespace wg {
namespace {

OpenedLockFile problem(LockFileProblem kind, const std::string& path, const struct stat& info, int error = 0) {
  OpenedLockFile result;
  result.problem = LockProblem{kind, path, file_type(info), user_name(info.st_uid), unsigned(info.st_mode & 07777)};
  result.problem->error = error;
  result.problem->links = unsigned(info.st_nlink);
  return result;
}

// Errors that are this process's, not the file's: the launch cannot go on.
bool exhausted(int error) { return error == EMFILE || error == ENFILE || error == ENOMEM; }

OpenedLockFile system_error(int error) {
  OpenedLockFile result;
  result.error = error;
  return result;
}

}  // namespace

FileKey key_of(const struct stat& info) { return FileKey{major(info.st_dev), minor(info.st_dev), info.st_ino}; }

FileType file_type(const struct stat& info) {
  switch (info.st_mode & S_IFMT) {
    case S_IFREG: return FileType::regular;
    case S_IFDIR: return FileType::directory;
    case S_IFLNK: return FileType::symlink;
    case S_IFIFO: return FileType::fifo;
    case S_IFSOCK: return FileType::socket;
    case S_IFCHR:
    case S_IFBLK: return FileType::device;
    default: return FileType::other;
  }
}

std::optional<FileKey> key_at(int dir, const std::string& name) {
  struct stat info {};
  if (fstatat(dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  return key_of(info);
}

// The look before the open matters: opening a FIFO or a device has effects of its own.
// O_NONBLOCK and O_NOFOLLOW cover what is swapped in between, and the fstat after the
// open checks that what was opened is what was looked at.
OpenedLockFile open_lock_file(int dir, const std::string& name, const std::string& path, Access access) {
  int flags = (access == Access::read_only ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  for (int attempt = 0; attempt < 4; ++attempt) {
    struct stat before {};
    if (fstatat(dir, name.c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return system_error(errno);
      OpenedLockFile missing;
      missing.missing = true;
      return missing;
    }
    if (!S_ISREG(before.st_mode)) return problem(LockFileProblem::not_regular, path, before);
    OpenedLockFile opened;
    opened.fd = UniqueFd(openat(dir, name.c_str(), flags));
    if (!opened.fd.valid()) {
      int error = errno;
      if (error == ENOENT) continue;  // deleted meanwhile: look again
      if (exhausted(error)) return system_error(error);
      if (error == EACCES || error == EPERM) return problem(LockFileProblem::no_access, path, before);
      struct stat now {};
      if (fstatat(dir, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(now.st_mode)) {
        return problem(LockFileProblem::not_regular, path, now);
      }
      return problem(LockFileProblem::cannot_open, path, before, error);  // a lease, say: this GPU only
    }
    struct stat after {};
    if (fstat(opened.fd.get(), &after) != 0) return system_error(errno);
    if (!S_ISREG(after.st_mode)) return problem(LockFileProblem::not_regular, path, after);
    if (key_of(after) != key_of(before)) continue;  // swapped between the look and the open
    if (after.st_nlink != 1) return problem(LockFileProblem::linked, path, after);
    opened.key = key_of(after);
    return opened;
  }
  OpenedLockFile missing;
  missing.missing = true;
  return missing;
}

int create_lock_file(int dir, const std::string& name) {
  // O_EXCL: never take over what is there. Not O_CREAT on an existing file: in a sticky
  // world-writable directory fs.protected_regular refuses it for another user's file.
  UniqueFd fd(openat(dir, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666));
  if (!fd.valid()) return errno == EEXIST ? 0 : errno;
  // Despite the umask: every user's with-gpu must open it. A file left in the umask's
  // mode would keep other users out, so it does not stay.
  if (fchmod(fd.get(), 0666) != 0) {
    int error = errno;
    unlinkat(dir, name.c_str(), 0);
    return error;
  }
  return 0;
}

}  // namespace wg
