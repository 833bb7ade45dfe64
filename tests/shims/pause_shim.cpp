// An LD_PRELOAD shim that makes a race deterministic: with WG_TEST_PAUSE=PATH set, the
// process pauses before its first flock() (or, with WG_TEST_PAUSE_BEFORE=chmod, before
// its first chmod, fchmod or fchmodat) on a file whose path contains
// WG_TEST_PAUSE_MATCH (any file when unset): it creates PATH.paused, waits until
// PATH.go exists (at most 60 s), then makes the call. The test acts in between.
// C library only: it is loaded into a binary that carries its own static C++ runtime.

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {

std::atomic<bool> paused_once{false};

void pause_until_go(const char* path) {
  char marker[4096];
  char go[4096];
  std::snprintf(marker, sizeof marker, "%s.paused", path);
  std::snprintf(go, sizeof go, "%s.go", path);
  int fd = ::open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) ::close(fd);
  timespec step{0, 2'000'000};
  for (int i = 0; i < 30'000 && ::access(go, F_OK) != 0; ++i) nanosleep(&step, nullptr);
}

// The path of what `fd` is open on ("" when unknown).
void fd_path(int fd, char* out, std::size_t size) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t length = ::readlink(link, out, size - 1);
  out[length > 0 ? length : 0] = '\0';
}

// Pauses if this call is the first of the kind WG_TEST_PAUSE_BEFORE names on a
// matching path. `dirfd` and `path` name the file as the *at() calls do.
void maybe_pause(const char* kind, int dirfd, const char* path) {
  const char* pause = std::getenv("WG_TEST_PAUSE");
  const char* before = std::getenv("WG_TEST_PAUSE_BEFORE");
  const char* match = std::getenv("WG_TEST_PAUSE_MATCH");
  if (!pause || !*pause || std::strcmp(before && *before ? before : "flock", kind) != 0) return;
  if (match && *match) {
    char target[8192] = "";
    if (!path || !*path || (path[0] != '/' && dirfd != AT_FDCWD)) fd_path(dirfd, target, 4096);
    if (path && *path) {
      std::size_t used = std::strlen(target);
      std::snprintf(target + used, sizeof target - used, "%s%s", used ? "/" : "", path);
    }
    if (!std::strstr(target, match)) return;
  }
  if (!paused_once.exchange(true)) pause_until_go(pause);
}

template <typename Function>
Function next(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

}  // namespace

#define WG_EXPORT extern "C" __attribute__((visibility("default")))

WG_EXPORT int flock(int fd, int operation) noexcept {
  maybe_pause("flock", fd, nullptr);
  return next<int (*)(int, int)>("flock")(fd, operation);
}

WG_EXPORT int chmod(const char* path, mode_t mode) noexcept {
  maybe_pause("chmod", AT_FDCWD, path);
  return next<int (*)(const char*, mode_t)>("chmod")(path, mode);
}

WG_EXPORT int fchmod(int fd, mode_t mode) noexcept {
  maybe_pause("chmod", fd, nullptr);
  return next<int (*)(int, mode_t)>("fchmod")(fd, mode);
}

WG_EXPORT int fchmodat(int dirfd, const char* path, mode_t mode, int flags) noexcept {
  maybe_pause("chmod", dirfd, path);
  return next<int (*)(int, const char*, mode_t, int)>("fchmodat")(dirfd, path, mode, flags);
}
