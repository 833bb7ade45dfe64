#include "os/proc_locks.hpp"

#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "os/proc_info.hpp"

namespace wg {

std::map<FileKey, std::vector<ClaimHolder>> parse_proc_locks(std::istream& in) {
  std::map<FileKey, std::vector<ClaimHolder>> holders;
  std::string line;
  while (std::getline(in, line)) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:01:1234567 0 EOF"; waiters have "->" after the id.
    std::istringstream fields(line);
    std::string id, kind, advisory, access, file;
    int pid = 0;
    if (!(fields >> id >> kind) || kind != "FLOCK") continue;
    if (!(fields >> advisory >> access >> pid >> file)) continue;
    unsigned major = 0;
    unsigned minor = 0;
    unsigned long inode = 0;
    if (std::sscanf(file.c_str(), "%x:%x:%lu", &major, &minor, &inode) != 3) continue;
    ClaimMode mode = access == "WRITE" ? ClaimMode::exclusive : ClaimMode::shared;
    holders[{major, minor, inode}].push_back({pid, mode, {}, {}});
  }
  return holders;
}

std::map<FileKey, std::vector<ClaimHolder>> parse_fdinfo_locks(const std::string& fdinfo) {
  std::string lines;
  std::istringstream in(fdinfo);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("lock:", 0) == 0) lines += line.substr(5) + "\n";
  }
  std::istringstream locks(lines);
  return parse_proc_locks(locks);
}

std::optional<ClaimMode> flock_held_through(int fd, const FileKey& key) {
  auto text = read_small_file("/proc/self/fdinfo/" + std::to_string(fd));
  if (!text) return std::nullopt;
  auto locks = parse_fdinfo_locks(*text);
  auto found = locks.find(key);
  if (found == locks.end() || found->second.empty()) return std::nullopt;
  return found->second.front().mode;
}

namespace {

// Calls `visit` with each numeric entry of directory `path`; stops when it returns true.
template <class Visit>
bool for_each_number(const std::string& path, Visit visit) {
  DIR* dir = opendir(path.c_str());
  if (!dir) return false;
  bool stopped = false;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    if ((stopped = visit(std::atoi(entry->d_name)))) break;
  }
  closedir(dir);
  return stopped;
}

}  // namespace

std::optional<bool> process_holds(int pid, const FileKey& key, std::chrono::steady_clock::time_point deadline) {
  std::string fdinfo = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* dir = opendir(fdinfo.c_str());
  if (!dir) return std::nullopt;
  closedir(dir);
  bool timed_out = false;
  bool found = for_each_number(fdinfo, [&](int fd) {
    if (std::chrono::steady_clock::now() >= deadline) return timed_out = true;  // too many descriptors
    auto text = read_small_file(fdinfo + "/" + std::to_string(fd));
    return text && parse_fdinfo_locks(*text).count(key) > 0;
  });
  if (timed_out) return std::nullopt;  // not looked at: unknown, not "holds nothing"
  return found;
}

std::vector<int> processes_holding(const FileKey& key, std::chrono::steady_clock::time_point deadline) {
  std::vector<int> pids;
  for_each_number("/proc", [&](int pid) {
    if (process_holds(pid, key, deadline).value_or(false)) pids.push_back(pid);
    return std::chrono::steady_clock::now() >= deadline;
  });
  return pids;
}

}  // namespace wg
