#include "os/proc_info.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

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

std::string user_name(unsigned uid) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(4096);
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found) return std::string(found->pw_name);
  return std::to_string(uid);
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
  return raw;
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
