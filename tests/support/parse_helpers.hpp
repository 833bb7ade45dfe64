#pragma once
// Parsing a command line in tests: argv[0] added, and the usage error it must give.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/options.hpp"

namespace wg::test {

inline Result<Options> parse_with(std::vector<std::string> args, const SettingSources& sources) {
  args.insert(args.begin(), "with-gpu");
  return parse_options(args, sources);
}

// The message of the usage error `parsed` must be ("" and a test failure when it is not one).
inline std::string usage_message(const Result<Options>& parsed) {
  EXPECT_FALSE(parsed);
  if (parsed) return {};
  EXPECT_EQ(parsed.error().kind, ErrorKind::usage);
  return parsed.error().message;
}

}  // namespace wg::test
