#include "os/launcher.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "os/fd.hpp"

namespace wg {
namespace {

// glibc's execvp searches this when PATH is unset.
constexpr const char* kDefaultPath = "/bin:/usr/bin";

Error not_found(const std::string& command) {
  return Error{ErrorKind::command_not_found, "command not found: " + command + " (check the name and PATH)", {}};
}

Error not_executable(const std::string& file, int error) {
  return Error{ErrorKind::command_not_executable,
               "cannot execute " + file + ": " + std::strerror(error) + " (check its permissions and format)", {}};
}

// The interpreter a `#!` line names, as the kernel reads it: the first word after `#!`
// within the first 256 bytes. Nothing when the file is not such a script or cannot be read.
std::optional<std::string> interpreter_of(const std::string& file) {
  UniqueFd fd(open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return std::nullopt;
  char head[256];
  ssize_t size = read(fd.get(), head, sizeof head);
  if (size < 2 || head[0] != '#' || head[1] != '!') return std::nullopt;
  std::string line(head + 2, static_cast<std::size_t>(size) - 2);
  line = line.substr(0, line.find('\n'));
  auto begin = line.find_first_not_of(" \t");
  if (begin == std::string::npos) return std::nullopt;
  return line.substr(begin, line.find_first_of(" \t", begin) - begin);
}

// Why a script cannot start when its interpreter cannot: the kernel answers ENOENT for a
// missing one, which execvp would report as the script itself not being found.
std::optional<Error> interpreter_problem(const std::string& file) {
  auto interpreter = interpreter_of(file);
  if (!interpreter) return std::nullopt;
  std::string shown = *interpreter;
  std::string note;
  if (!shown.empty() && shown.back() == '\r') {
    shown.pop_back();
    note = " (the #! line ends in a carriage return: DOS line endings)";
  }
  struct stat info {};
  std::string what;
  if (stat(interpreter->c_str(), &info) != 0) {
    bool missing = errno == ENOENT || errno == ENOTDIR;
    what = missing ? "is not found" : std::string("cannot be used: ") + std::strerror(errno);
  } else if (!S_ISREG(info.st_mode) || access(interpreter->c_str(), X_OK) != 0) {
    what = "is not executable";
  } else {
    return std::nullopt;
  }
  return Error{ErrorKind::command_not_executable,
               "cannot run " + file + ": its interpreter " + shown + " (#! line) " + what + note, {}};
}

// What exec would say about `file`: nothing when it would run it. `missing` is set when
// exec would answer ENOENT or ENOTDIR, which makes execvp try the next PATH entry.
std::optional<Error> examine(const std::string& file, const std::string& command, bool& missing) {
  missing = false;
  struct stat info {};
  if (stat(file.c_str(), &info) != 0) {
    missing = errno == ENOENT || errno == ENOTDIR;
    return missing ? not_found(command) : not_executable(file, errno);
  }
  if (S_ISDIR(info.st_mode)) return not_executable(file, EISDIR);
  if (!S_ISREG(info.st_mode)) return not_executable(file, EACCES);
  // access() rather than faccessat(AT_EACCESS): with-gpu is not set-uid, and faccessat2
  // is refused by old seccomp profiles.
  if (access(file.c_str(), X_OK) != 0) return not_executable(file, errno);
  return interpreter_problem(file);
}

}  // namespace

Result<std::string> resolve_command(const std::string& command, const std::optional<std::string>& path) {
  if (command.empty()) return not_found(command);
  bool missing = false;
  if (command.find('/') != std::string::npos) {
    if (auto problem = examine(command, command, missing)) return *problem;
    return command;
  }
  // As execvp: a file that exists but cannot run is remembered and the search goes on;
  // only when no entry runs is it reported, in preference to "not found".
  std::optional<Error> refused;
  const std::string entries = path.value_or(kDefaultPath);
  for (std::size_t start = 0;;) {
    std::size_t end = entries.find(':', start);
    std::string dir = entries.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string file = (dir.empty() ? "." : dir) + "/" + command;
    auto problem = examine(file, command, missing);
    if (!problem) return file;
    if (!missing && !refused) refused = problem;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return refused ? *refused : not_found(command);
}

Result<std::string> ExecLauncher::resolve(const std::string& command) const {
  const char* path = std::getenv("PATH");
  return resolve_command(command, path ? std::optional<std::string>(path) : std::nullopt);
}

Error ExecLauncher::exec(const std::vector<std::string>& argv, const EnvChanges& env) {
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  int error = errno;
  if (error == ENOENT || error == ENOTDIR) return not_found(argv[0]);
  return not_executable(argv[0], error);
}

}  // namespace wg
