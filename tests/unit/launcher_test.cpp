#include "os/launcher.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "support/temp_dir.hpp"

namespace wg {
namespace {

class ResolveCommand : public ::testing::Test {
 protected:
  ResolveCommand() {
    mkdir(bin.c_str(), 0755);
    mkdir(other.c_str(), 0755);
  }

  static void write(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
  }

  // The message of a resolution that must fail, or "resolved: FILE".
  static std::string problem(const Result<std::string>& resolved) {
    return resolved ? "resolved: " + *resolved : resolved.error().message;
  }

  test::TempDir temp;
  std::string bin = temp / "bin";
  std::string other = temp / "other";
};

TEST_F(ResolveCommand, FindsTheFirstExecutableOfThatNameInPath) {
  write(other + "/tool", "#!/bin/sh\n", 0755);
  write(bin + "/tool", "#!/bin/sh\n", 0755);
  auto found = resolve_command("tool", bin + ":" + other);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, bin + "/tool");
}

TEST_F(ResolveCommand, AMissingNameIsNotFoundWith127sKind) {
  auto found = resolve_command("pyhton", bin + ":" + other);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().kind, ErrorKind::command_not_found);
  EXPECT_EQ(found.error().message, "command not found: pyhton (check the name and PATH)");
}

TEST_F(ResolveCommand, ANonExecutableFileIsSkippedForAnExecutableOneLaterInPath) {
  write(bin + "/tool", "#!/bin/sh\n", 0644);
  write(other + "/tool", "#!/bin/sh\n", 0755);
  EXPECT_EQ(problem(resolve_command("tool", bin + ":" + other)), "resolved: " + other + "/tool");
}

TEST_F(ResolveCommand, ANonExecutableFileAloneIsNotExecutableNotMissing) {
  write(bin + "/tool", "#!/bin/sh\n", 0644);
  auto found = resolve_command("tool", bin + ":" + other);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().kind, ErrorKind::command_not_executable);
  EXPECT_EQ(found.error().message,
            "cannot execute " + bin + "/tool: Permission denied (check its permissions and format)");
}

TEST_F(ResolveCommand, ADirectoryOfThatNameIsNotACommand) {
  mkdir((bin + "/tool").c_str(), 0755);
  EXPECT_EQ(problem(resolve_command("tool", bin)),
            "cannot execute " + bin + "/tool: Is a directory (check its permissions and format)");
  EXPECT_EQ(problem(resolve_command(bin + "/tool", std::nullopt)),
            "cannot execute " + bin + "/tool: Is a directory (check its permissions and format)");
}

TEST_F(ResolveCommand, ANameWithASlashIsThatFileAndPathIsNotSearched) {
  write(bin + "/tool", "#!/bin/sh\n", 0755);
  EXPECT_EQ(problem(resolve_command(bin + "/tool", std::string("/nowhere"))), "resolved: " + bin + "/tool");
  auto missing = resolve_command(other + "/tool", bin);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::command_not_found);
  EXPECT_EQ(missing.error().message, "command not found: " + other + "/tool (check the name and PATH)");
}

TEST_F(ResolveCommand, AScriptWhoseInterpreterIsMissingSaysSoNotThatTheScriptIsMissing) {
  write(bin + "/train.sh", "#!/usr/bin/pyhton3 -u\nprint('hi')\n", 0755);
  auto found = resolve_command(bin + "/train.sh", std::nullopt);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().kind, ErrorKind::command_not_executable);
  EXPECT_EQ(found.error().message,
            "cannot run " + bin + "/train.sh: its interpreter /usr/bin/pyhton3 (#! line) is not found");
  // Found through PATH, it is named by the file found.
  EXPECT_EQ(problem(resolve_command("train.sh", other + ":" + bin)),
            "cannot run " + bin + "/train.sh: its interpreter /usr/bin/pyhton3 (#! line) is not found");
}

TEST_F(ResolveCommand, AnInterpreterLineEndingInACarriageReturnIsCalledOut) {
  write(bin + "/dos.sh", "#!/bin/sh\r\necho hi\r\n", 0755);
  EXPECT_EQ(problem(resolve_command(bin + "/dos.sh", std::nullopt)),
            "cannot run " + bin + "/dos.sh: its interpreter /bin/sh (#! line) is not found (the #! line ends in a "
            "carriage return: DOS line endings)");
}

TEST_F(ResolveCommand, AScriptWithAPresentInterpreterOrNoneResolves) {
  write(bin + "/good.sh", "#! /bin/sh -e\necho hi\n", 0755);
  write(bin + "/plain", "echo hi\n", 0755);  // no #!: execvp runs it with /bin/sh
  EXPECT_EQ(problem(resolve_command(bin + "/good.sh", std::nullopt)), "resolved: " + bin + "/good.sh");
  EXPECT_EQ(problem(resolve_command(bin + "/plain", std::nullopt)), "resolved: " + bin + "/plain");
}

TEST_F(ResolveCommand, UnsetPathSearchesExecvpsDefault) {
  EXPECT_EQ(problem(resolve_command("sh", std::nullopt)), "resolved: /bin/sh");
  EXPECT_FALSE(resolve_command("no-such-command-xyz", std::nullopt));
}

TEST_F(ResolveCommand, AnEmptyPathEntryIsTheCurrentDirectory) {
  write(bin + "/tool", "#!/bin/sh\n", 0755);
  char previous[4096];
  ASSERT_NE(getcwd(previous, sizeof previous), nullptr);
  ASSERT_EQ(chdir(bin.c_str()), 0);
  auto leading = resolve_command("tool", ":" + other);
  auto middle = resolve_command("tool", other + "::/nowhere");
  auto trailing = resolve_command("tool", other + ":");
  auto empty = resolve_command("tool", std::string());
  auto absent = resolve_command("tool", other);
  ASSERT_EQ(chdir(previous), 0);
  EXPECT_EQ(problem(leading), "resolved: ./tool");
  EXPECT_EQ(problem(middle), "resolved: ./tool");
  EXPECT_EQ(problem(trailing), "resolved: ./tool");
  EXPECT_EQ(problem(empty), "resolved: ./tool");
  EXPECT_EQ(problem(absent), "command not found: tool (check the name and PATH)");
}

TEST_F(ResolveCommand, AnEmptyCommandIsNotFound) {
  EXPECT_EQ(problem(resolve_command("", bin)), "command not found:  (check the name and PATH)");
}

}  // namespace
}  // namespace wg
