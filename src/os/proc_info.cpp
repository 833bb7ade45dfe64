#include "os/proc_info.hpp"

#include <pwd.h>
#include <sys/types.h>

#include <fstream>
#include <iterator>
#include <vector>

namespace wg {

std::optional<std::string> process_user(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key != "Uid:") {
      status.ignore(4096, '\n');
      continue;
    }
    uid_t uid = 0;
    if (!(status >> uid)) return std::nullopt;
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(4096);
    if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found) return std::string(found->pw_name);
    return std::to_string(uid);
  }
  return std::nullopt;
}

std::optional<std::string> process_command(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  if (raw.empty()) return std::nullopt;
  for (char& c : raw) {
    if (c == '\0') c = ' ';
  }
  return raw;
}

}  // namespace wg
