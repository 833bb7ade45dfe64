#pragma once
// Running the built binary as a user would: explicit argv and environment, captured
// output, real exit status.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace wg::test {

using Env = std::map<std::string, std::string>;

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
};

// Runs to completion with `env` as the whole environment; kills it after `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv, const Env& env,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A process left running; its stdout and stderr go to files.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const Env& env, const std::string& out_path,
                    const std::string& err_path);
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  ~BackgroundProcess();
  pid_t pid() const { return pid_; }
  void signal(int number) const;
  // Waits for exit and returns the status as run_process does.
  int wait();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Reads a whole file ("" when missing).
std::string read_file(const std::string& path);

}  // namespace wg::test
