#include "os/proc_info.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <string_view>
#include <vector>

#include "core/text.hpp"
#include "os/fd.hpp"

namespace wg {

std::optional<std::string> read_small_file(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0) return std::nullopt;
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

std::optional<std::string> process_user(int pid) {
  if (pid <= 0) return std::nullopt;
  auto status = read_small_file("/proc/" + std::to_string(pid) + "/status");
  if (!status) return std::nullopt;
  auto line = status->find("\nUid:");
  unsigned uid = 0;
  if (line == std::string::npos || std::sscanf(status->c_str() + line + 5, "%u", &uid) != 1) return std::nullopt;
  return user_name(uid);
}

bool process_stopped(int pid) {
  if (pid <= 0) return false;
  auto stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  auto end_of_name = stat->rfind(')');  // the command name may hold spaces and parentheses
  if (end_of_name == std::string::npos || end_of_name + 2 >= stat->size()) return false;
  char state = (*stat)[end_of_name + 2];
  return state == 'T' || state == 't';
}

bool is_self_or_ancestor(int pid) {
  if (pid <= 0) return false;
  int current = getpid();
  for (int hops = 0; current > 0 && hops < 4096; ++hops) {
    if (current == pid) return true;
    auto stat = read_small_file("/proc/" + std::to_string(current) + "/stat");
    if (!stat) return false;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the last ')' ends it.
    auto close = stat->rfind(')');
    int parent = 0;
    if (close == std::string::npos || std::sscanf(stat->c_str() + close + 1, " %*c %d", &parent) != 1) return false;
    current = parent;
  }
  return false;
}

std::string user_name(unsigned uid) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(4096);
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found) return printable(found->pw_name);
  return std::to_string(uid);
}

std::optional<std::string> slurm_step_of(int pid) {
  if (pid <= 0) return std::nullopt;
  auto environ = read_small_file("/proc/" + std::to_string(pid) + "/environ");
  if (!environ) return std::nullopt;
  std::optional<std::string> job, step;
  std::size_t start = 0;
  while (start < environ->size()) {
    std::size_t end = environ->find('\0', start);
    if (end == std::string::npos) end = environ->size();
    std::string_view entry(environ->data() + start, end - start);
    if (entry.rfind("SLURM_JOB_ID=", 0) == 0) job = std::string(entry.substr(13));
    if (entry.rfind("SLURM_STEP_ID=", 0) == 0) step = std::string(entry.substr(14));
    start = end + 1;
  }
  if (!job) return std::nullopt;
  return *job + (step ? "." + *step : "");
}

std::optional<std::string> process_command(int pid) {
  if (pid <= 0) return std::nullopt;
  auto raw = read_small_file("/proc/" + std::to_string(pid) + "/cmdline");
  if (!raw) return std::nullopt;
  while (!raw->empty() && raw->back() == '\0') raw->pop_back();
  if (raw->empty()) return std::nullopt;
  for (char& c : *raw) {
    if (c == '\0') c = ' ';
  }
  return printable(*raw);  // another user's bytes, shown on our terminal
}

void describe_processes(Machine& machine) {
  for (auto& gpu : machine.gpus) {
    if (!gpu.processes) continue;
    for (auto& process : *gpu.processes) {
      process.user = process_user(static_cast<int>(process.pid));
      process.command = process_command(static_cast<int>(process.pid));
    }
  }
}

}  // namespace wg
