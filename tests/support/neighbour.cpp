#include "support/neighbour.hpp"

#include <cstdlib>

#include <sys/stat.h>

#include <filesystem>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

namespace wg::test {
namespace {

std::string first_executable(const std::vector<std::string>& candidates) {
  for (const auto& path : candidates) {
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

std::string setpriv_path() { return first_executable({"/usr/bin/setpriv", "/bin/setpriv"}); }

std::optional<Neighbour> lookup(const std::string& name) {
  passwd* entry = getpwnam(name.c_str());
  if (!entry) return std::nullopt;
  return Neighbour{name, entry->pw_uid, entry->pw_gid};
}

int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::vector<std::string> Neighbour::command(const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {setpriv_path(), "--reuid=" + std::to_string(uid), "--regid=" + std::to_string(gid),
                                   "--clear-groups", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

bool Neighbour::become() const {
  return setgroups(0, nullptr) == 0 && setresgid(gid, gid, gid) == 0 && setresuid(uid, uid, uid) == 0;
}

NeighbourOrReason ensure_neighbour(const std::string& name) {
  if (geteuid() != 0) {
    return {std::nullopt, "not running as root (uid " + std::to_string(geteuid()) +
                              "): the hostile-neighbour tests create and become unprivileged users"};
  }
  if (setpriv_path().empty()) return {std::nullopt, "setpriv (util-linux) is not installed"};
  if (auto user = lookup(name)) return {user, ""};
  std::string useradd = first_executable({"/usr/sbin/useradd", "/sbin/useradd", "/usr/bin/useradd"});
  if (useradd.empty()) return {std::nullopt, "useradd is not installed, so user " + name + " cannot be created"};
  // Test processes run in parallel under ctest: one useradd at a time.
  int lock = open("/tmp/with-gpu-test-useradd.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock >= 0) flock(lock, LOCK_EX);
  ProcessResult added;
  if (!lookup(name)) {
    added = run_process({useradd, "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                         "--comment", "with-gpu hostile-neighbour tests", name},
                        {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}}, std::chrono::seconds(30));
  }
  if (lock >= 0) close(lock);
  if (auto user = lookup(name)) return {user, ""};
  return {std::nullopt, "useradd " + name + " failed (exit " + std::to_string(added.exit_code) + "): " + added.err};
}

Spawned::Spawned(const std::vector<std::string>& argv, const Env& env, const std::string& out_path,
                 const std::string& err_path) {
  // Everything the child needs is built before fork: allocating after it is unsafe.
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    // Only 0, 1 and 2: a stray descriptor would change what with-gpu sees (and the
    // descriptor-limit test counts them).
    syscall(SYS_close_range, 3U, ~0U, 0U);
    execve(args[0], args.data(), envp.data());
    _exit(250);
  }
  if (pid_ > 0) setpgid(pid_, pid_);
}

Spawned::~Spawned() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);  // the group: children the command left behind too
  if (!status_) {
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void Spawned::signal(int number) const { kill(pid_, number); }

std::optional<int> Spawned::wait_for(std::chrono::milliseconds limit) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + limit;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      raw_status_ = status;
      status_ = decode(status);
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (pidfd >= 0) {
      pollfd exited{pidfd, POLLIN, 0};
      poll(&exited, 1, static_cast<int>(left.count()));
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(5)));
    }
  }
  if (pidfd >= 0) close(pidfd);
  return status_;
}

bool Spawned::running() { return !wait_for(std::chrono::milliseconds(0)); }

SharedBinaries::SharedBinaries(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(pattern.data())) dir_ = pattern;
  if (ok()) chmod(dir_.c_str(), 0755);
}

SharedBinaries::~SharedBinaries() {
  std::error_code ignored;
  if (ok()) std::filesystem::remove_all(dir_, ignored);
}

std::string SharedBinaries::publish(const std::string& from, const std::string& name) const {
  std::string to = dir_ + "/" + name;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  chmod(to.c_str(), 0755);
  return to;
}

std::string make_world_dir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  if (!mkdtemp(pattern.data())) return "";
  chmod(pattern.c_str(), 01777);
  return pattern;
}

}  // namespace wg::test
