// The config files: the user's defaults and profiles, WITH_GPU_CONFIG, errors in them
// and --show-config's origins, through the built binary.

#include <filesystem>

#include "support/e2e_fixture.hpp"

namespace wg::test {
namespace {

class Config : public E2E {
 protected:
  Config() {
    write_machine(machine_of({gpu(0, 10000), gpu(1, 30000), gpu(2, 50000)}));
    std::filesystem::create_directories(temp / "xdg/with-gpu");
    env["XDG_CONFIG_HOME"] = temp / "xdg";
    env.erase("WITH_GPU_LOCK_DIR");
  }
  void write_user(const std::string& text) const { std::ofstream(temp / "xdg/with-gpu/config.toml") << text; }
};

TEST_F(Config, AConfigThatOnlySetsTheLockDirPutsClaimsThere) {
  std::string shared = temp / "lab-claims";
  write_user("[defaults]\nlock_dir = \"" + shared + "\"\n");
  EXPECT_EQ(probe({}), "2|PCI_BUS_ID");
  EXPECT_TRUE(std::filesystem::exists(shared + "/gpu-c0de0002-aaaa-bbbb-cccc-dddddddddddd.lock"));
}

TEST_F(Config, TheUsersDefaultsAndAProfileFromTheEnvironmentApply) {
  write_user("[defaults]\nmax_gpus = 2\nmin_gpus = 2\n[profiles.small]\nmin_gpus = 1\nmax_gpus = 1\nmin_memory = \"40G\"\n");
  EXPECT_EQ(probe({"--lock-dir", temp / "l"}), "2,1|PCI_BUS_ID");
  EXPECT_EQ(probe({"--lock-dir", temp / "l"}, {{"WITH_GPU_PROFILE", "small"}}), "2|PCI_BUS_ID");
  auto none = with_gpu({"--lock-dir", temp / "l", "--profile", "small", "--min-memory", "60G", "true"});
  EXPECT_EQ(none.exit_code, 4);  // the flag beats the profile
}

TEST_F(Config, WithGpuConfigNamesAFileThatMustExist) {
  std::ofstream(temp / "team.toml") << "[defaults]\nmin_memory = \"45G\"\n";
  EXPECT_EQ(probe({"--lock-dir", temp / "l"}, {{"WITH_GPU_CONFIG", temp / "team.toml"}}), "2|PCI_BUS_ID");
  auto missing = with_gpu({"true"}, {{"WITH_GPU_CONFIG", temp / "nope.toml"}});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "with-gpu: error: config file " + (temp / "nope.toml") +
                             " does not exist (named by --config or WITH_GPU_CONFIG)\n");
}

TEST_F(Config, ABrokenConfigIsAUsageErrorAndNothingRuns) {
  write_user("[defaults]\nmax_temperature = 80\n");
  auto result = with_gpu({"touch", temp / "ran"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "with-gpu: error: " + (temp / "xdg/with-gpu/config.toml") +
                            ":2:1: unknown key \"max_temperature\" (did you mean \"max_temp\"?)\n");
  EXPECT_FALSE(std::filesystem::exists(temp / "ran"));
}

TEST_F(Config, ShowConfigNamesEachOrigin) {
  write_user("[profiles.llm]\nmin_memory = 40000\n");
  auto result = with_gpu({"--show-config", "--profile", "llm", "--max-util", "50"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("min_memory     = 40000           # profile llm in " +
                            (temp / "xdg/with-gpu/config.toml") + ":2:1\n"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("max_util       = 50              # flag\n"), std::string::npos);
  EXPECT_NE(result.out.find("wait           = false           # built-in\n"), std::string::npos);
}

}  // namespace
}  // namespace wg::test
