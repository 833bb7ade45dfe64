#include "os/safe_directory.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "os/proc_info.hpp"

namespace wg {
namespace {

constexpr int kMaxLinks = 40;  // as the kernel's own limit on links in one lookup

Error refused(std::string message) { return Error{ErrorKind::lock_dir, std::move(message), {}}; }

std::deque<std::string> components_of(const std::string& path) {
  std::deque<std::string> parts;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool trusted_owner(uid_t uid) { return uid == 0 || uid == geteuid(); }

// Nobody else can replace a link whose owner is trusted in a directory whose owner is
// trusted and that others cannot write, or that is sticky.
bool trusted_link(const struct stat& link, const struct stat& directory) {
  bool others_write = (directory.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  return trusted_owner(link.st_uid) && trusted_owner(directory.st_uid) && (!others_write || (directory.st_mode & S_ISVTX));
}

}  // namespace

std::string symlink_refused(const std::string& path) {
  return "lock directory " + path + " is a symbolic link, which with-gpu refuses; remove it or choose another with "
         "--lock-dir";
}

std::string not_a_directory(const std::string& path) {
  return "lock directory " + path + " is not a directory; remove it or choose another with --lock-dir";
}

namespace {

// A symbolic link on the way: its target's components go in front of the rest, and the
// walk restarts at / for an absolute target. Only a link nobody else could have put there.
Result<Ok> follow_link(const std::string& path, const std::string& part, const struct stat& link,
                       OpenedDirectory& at, std::deque<std::string>& parts, int& links) {
  struct stat directory {};
  fstat(at.fd.get(), &directory);
  if (!trusted_link(link, directory)) {
    return refused("lock directory " + path + ": " + part + " on the way is a symbolic link of " +
                   user_name(link.st_uid) + "'s in a directory others can change, which with-gpu does not follow; "
                   "give the path without it");
  }
  if (++links > kMaxLinks) return refused("lock directory " + path + ": too many symbolic links on the way");
  std::string target(4096, '\0');
  ssize_t length = readlinkat(at.fd.get(), part.c_str(), target.data(), target.size());
  if (length <= 0) return refused("cannot use lock directory " + path + ": " + std::strerror(errno));
  target.resize(static_cast<std::size_t>(length));
  auto more = components_of(target);
  parts.insert(parts.begin(), more.begin(), more.end());
  if (target.front() == '/') at.fd = UniqueFd(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return Ok{};
}

// Makes the missing last component; `made` is false when another process made it first.
Result<Ok> make_last(const std::string& path, const std::string& part, mode_t mode, OpenedDirectory& at) {
  bool made = mkdirat(at.fd.get(), part.c_str(), mode) == 0;
  if (!made && errno != EEXIST) {
    return refused("cannot create lock directory " + path + ": " + std::strerror(errno) +
                   "; choose another with --lock-dir or WITH_GPU_LOCK_DIR");
  }
  at.created = made;
  return Ok{};
}

// One step down, without following a link.
Result<Ok> step_into(const std::string& path, const std::string& part, OpenedDirectory& at) {
  UniqueFd next(openat(at.fd.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!next.valid()) {
    int error = errno;
    if (error == ENOTDIR) return refused(not_a_directory(path));
    if (error == ELOOP) return refused(symlink_refused(path));
    return refused("cannot open lock directory " + path + ": " + std::strerror(error));
  }
  at.fd = std::move(next);
  return Ok{};
}

}  // namespace

Result<OpenedDirectory> open_safe_directory(const std::string& path, CreateLast create, mode_t mode) {
  if (path.empty() || path.front() != '/') return refused("lock directory " + path + " is not an absolute path");
  std::deque<std::string> parts = components_of(path);
  OpenedDirectory result;
  result.fd = UniqueFd(open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  int links = 0;
  while (!parts.empty()) {
    std::string part = parts.front();
    parts.pop_front();
    if (part == ".") continue;
    bool last = parts.empty();
    struct stat info {};
    Result<Ok> step = Ok{};
    if (fstatat(result.fd.get(), part.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT || !last || create == CreateLast::no) {
        return refused("cannot use lock directory " + path + ": " + std::strerror(errno));
      }
      step = make_last(path, part, mode, result);
    } else if (S_ISLNK(info.st_mode)) {
      if (last) return refused(symlink_refused(path));
      if (auto followed = follow_link(path, part, info, result, parts, links); !followed) return followed.error();
      continue;
    }
    if (!step) return step.error();
    if (auto stepped = step_into(path, part, result); !stepped) return stepped.error();
  }
  if (fstat(result.fd.get(), &result.info) != 0) {
    return refused("cannot use lock directory " + path + ": " + std::strerror(errno));
  }
  return result;
}

}  // namespace wg
