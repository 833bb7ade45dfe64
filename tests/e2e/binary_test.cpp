// The shape of the built binary itself, not its behaviour.

#include <gtest/gtest.h>

#include <sstream>

#include "support/process.hpp"

namespace wg::test {
namespace {

// One file to copy to any x86-64 Linux GPU machine: no libstdc++/libgcc at run time,
// and no NVML or CUDA library linked (NVML comes through dlopen).
TEST(Binary, NeedsNothingButGlibcAtRunTime) {
#ifdef WITH_GPU_SANITIZED
  GTEST_SKIP() << "a sanitizer build links its runtimes dynamically";
#endif
  auto result = run_process({"/usr/bin/readelf", "-d", WITH_GPU_BINARY}, {{"PATH", "/usr/bin:/bin"}});
  if (result.exit_code == 250) GTEST_SKIP() << "readelf not installed";
  ASSERT_EQ(result.exit_code, 0);
  std::istringstream lines(result.out);
  std::string line;
  std::vector<std::string> needed;
  while (std::getline(lines, line)) {
    auto open = line.find("Shared library: [");
    if (open != std::string::npos) needed.push_back(line.substr(open + 17, line.find(']') - open - 17));
  }
  ASSERT_FALSE(needed.empty());
  for (const auto& library : needed) {
    EXPECT_TRUE(library == "libc.so.6" || library == "libm.so.6" || library == "ld-linux-x86-64.so.2")
        << "unexpected run-time dependency " << library;
  }
}

}  // namespace
}  // namespace wg::test
