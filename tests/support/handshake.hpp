#pragma once
// Tests wait for events, not time: a child says it is ready by creating a file, and waits
// for the test's go-ahead, another file; the test polls with a generous deadline.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace wg::test {

// Until `done` holds, checked every 10 ms, or `limit` has passed; its last answer.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

inline bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// A success once `path` exists (a child's "ready"); a failure naming it after `limit`.
inline ::testing::AssertionResult appears(const std::string& path,
                                          std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  if (eventually([&] { return exists(path); }, limit)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << path << " did not appear within " << limit.count() << " ms";
}

// Shell text that returns once `path` exists: a child's wait for the test's go-ahead.
inline std::string shell_wait_for(const std::string& path) {
  return "while [ ! -f " + path + " ]; do sleep 0.02; done";
}

// Creates `path`: the go-ahead a child waits for with shell_wait_for.
inline void go_ahead(const std::string& path) { std::ofstream(path).put('x'); }

}  // namespace wg::test
