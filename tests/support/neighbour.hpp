#pragma once
// Other users of the machine, for the hostile-neighbour tests: unprivileged accounts
// created once when the tests run as root, and processes started as them.

#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace wg::test {

struct Neighbour {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;

  // ARGV prefixed so that it runs as this user: setpriv with the user's uid and gid
  // and no supplementary groups (the environment is left as given).
  std::vector<std::string> command(const std::vector<std::string>& argv) const;
  // Takes this user's identity in the calling process (a forked child); false when refused.
  bool become() const;
};

// The user NAME, created when missing (a system account: no home, no login shell).
// Without the user, `reason` says why it cannot be had: not root, no useradd or setpriv,
// useradd failed.
struct NeighbourOrReason {
  std::optional<Neighbour> user;
  std::string reason;
};
NeighbourOrReason ensure_neighbour(const std::string& name);

// Copies of built files (with-gpu, the NVML double) in a fresh 0755 directory under /tmp,
// so that other users can run them even when the build tree is private. Removed with it.
class SharedBinaries {
 public:
  explicit SharedBinaries(const std::string& prefix);
  SharedBinaries(const SharedBinaries&) = delete;
  SharedBinaries& operator=(const SharedBinaries&) = delete;
  ~SharedBinaries();
  bool ok() const { return !dir_.empty(); }
  // The path of the copy of `from`, mode 0755.
  std::string publish(const std::string& from, const std::string& name) const;

 private:
  std::string dir_;
};

// A fresh directory under /tmp that every user can reach and write, sticky like /tmp itself
// (the fixture's TempDir is mkdtemp's 0700); empty when it cannot be made.
std::string make_world_dir(const std::string& prefix);

// A process in its own process group, stdout and stderr to files, stdin /dev/null and
// no other descriptor inherited. The whole group is killed when this goes away.
class Spawned {
 public:
  Spawned(const std::vector<std::string>& argv, const Env& env, const std::string& out_path,
          const std::string& err_path);
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;
  ~Spawned();
  pid_t pid() const { return pid_; }
  void signal(int number) const;
  // The exit status as run_process reports it, or nothing when still running after `limit`.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  bool running();
  // True once it has ended by exiting (not killed by a signal).
  bool exited() const { return raw_status_ && WIFEXITED(*raw_status_); }

 private:
  pid_t pid_ = -1;
  std::optional<int> raw_status_;
  std::optional<int> status_;
};

}  // namespace wg::test
