#include <gtest/gtest.h>

#include <fstream>

#include "cli/options.hpp"
#include "core/units.hpp"
#include "support/parse_helpers.hpp"
#include "support/temp_dir.hpp"

namespace wg {
namespace {

using namespace std::chrono_literals;

// Config files in a temporary directory, and the command line parsed over them.
class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() {
    sources.system_config = temp / "system.toml";
    sources.user_config = temp / "user.toml";
  }

  void write(const std::string& name, const std::string& text) { std::ofstream(temp / name) << text; }

  Result<Options> parse(std::vector<std::string> args) { return test::parse_with(std::move(args), sources); }
  std::string error_of(std::vector<std::string> args) { return test::usage_message(parse(std::move(args))); }

  test::TempDir temp;
  SettingSources sources;
};

// The seed roadmap's example.
const char* kSeedExample = R"(
[defaults]
min_memory = 8000  # 8 GB default
max_util = 80      # Max 80% utilization

[profiles]
[profiles.llm]
min_memory = 40000
max_util = 50

[profiles.inference]
min_memory = 4000
max_util = 90
)";

TEST_F(ConfigTest, NoConfigFilesMeansBuiltInDefaults) {
  auto options = parse({"cmd"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->selection.min_free_bytes, 2048 * kMiB);
  EXPECT_FALSE(options->selection.max_util_percent);
}

TEST_F(ConfigTest, UserDefaultsApplyAlways) {
  write("user.toml", kSeedExample);
  auto options = parse({"cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->selection.min_free_bytes, 8000 * kMiB);
  EXPECT_EQ(options->selection.max_util_percent, 80u);
}

TEST_F(ConfigTest, AProfileBeatsDefaultsAndAFlagBeatsTheProfile) {
  write("user.toml", kSeedExample);
  auto profile = parse({"--profile", "llm", "cmd"});
  ASSERT_TRUE(profile);
  EXPECT_EQ(profile->selection.min_free_bytes, 40000 * kMiB);
  EXPECT_EQ(profile->selection.max_util_percent, 50u);
  auto flag = parse({"--profile", "llm", "--max-util", "60", "cmd"});
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->selection.max_util_percent, 60u);
  EXPECT_EQ(flag->selection.min_free_bytes, 40000 * kMiB);
}

TEST_F(ConfigTest, UserDefaultsBeatSystemDefaults) {
  write("system.toml", "[defaults]\nmin_memory = \"16G\"\nmax_temp = 85\nlock_dir = \"/srv/gpu-claims\"\n");
  write("user.toml", "[defaults]\nmin_memory = \"4G\"\n");
  auto options = parse({"cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->selection.min_free_bytes, 4 * kGiB);
  EXPECT_EQ(options->selection.max_temp_c, 85u);
  EXPECT_EQ(options->lock_dir, "/srv/gpu-claims");
}

TEST_F(ConfigTest, AProfileMayComeFromEitherFileAndTheUsersWinsKeyByKey) {
  write("system.toml", "[profiles.big]\nmin_gpus = 4\nmin_memory = \"70G\"\n");
  write("user.toml", "[defaults]\nmin_gpus = 1\n[profiles.big]\nmin_memory = \"60G\"\n");
  auto options = parse({"--profile", "big", "cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->selection.min_gpus, 4u);  // the system profile beats user [defaults]
  EXPECT_EQ(options->selection.max_gpus, 4u);
  EXPECT_EQ(options->selection.min_free_bytes, 60 * kGiB);
}

TEST_F(ConfigTest, TheEnvironmentNamesTheProfileAndTheFile) {
  write("other.toml", kSeedExample);
  sources.config = temp / "other.toml";
  sources.profile = "inference";
  auto options = parse({"cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->selection.min_free_bytes, 4000 * kMiB);
  EXPECT_EQ(options->selection.max_util_percent, 90u);
  auto flag = parse({"--profile", "llm", "cmd"});  // the flag beats WITH_GPU_PROFILE
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->selection.max_util_percent, 50u);
}

TEST_F(ConfigTest, ANamedConfigFileMustExist) {
  sources.config = temp / "missing.toml";
  EXPECT_EQ(error_of({"cmd"}),
            "config file " + (temp / "missing.toml") + " does not exist (named by --config or WITH_GPU_CONFIG)");
  EXPECT_EQ(error_of({"--config", temp / "gone.toml", "cmd"}),
            "config file " + (temp / "gone.toml") + " does not exist (named by --config or WITH_GPU_CONFIG)");
}

TEST_F(ConfigTest, AConfigPathThatIsADirectoryIsRefused) {
  sources.config = temp.path();
  EXPECT_EQ(error_of({"cmd"}), "config file " + temp.path() + " is not a regular file");
}

TEST_F(ConfigTest, AnEmptyConfigFileIsFine) {
  write("user.toml", "");
  EXPECT_TRUE(parse({"cmd"}));
}

TEST_F(ConfigTest, LockDirSitsBetweenFlagsAndFiles) {
  write("user.toml", "[defaults]\nlock_dir = \"/from/config\"\n");
  EXPECT_EQ(parse({"cmd"})->lock_dir, "/from/config");
  sources.lock_dir = "/from/env";
  EXPECT_EQ(parse({"cmd"})->lock_dir, "/from/env");
  EXPECT_EQ(parse({"--lock-dir", "/from/flag", "cmd"})->lock_dir, "/from/flag");
}

TEST_F(ConfigTest, EverySettingCanBeWrittenWithTheFlagsValues) {
  write("user.toml", R"([defaults]
min_gpus = 2
max_gpus = 4
gpu_type = "a100"
strict = true
min_memory = "40G"
max_util = 70
max_temp = 80
max_power = "80%"
sample_window = "2s"
require_idle = true
wait = true
timeout = "2m"
poll_interval = "500ms"
quiet = true
id_format = "uuid"
share = true
topology = "ignore"
numa = "require"
bind = true
)");
  auto options = parse({"cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->selection.min_gpus, 2u);
  EXPECT_EQ(options->selection.max_gpus, 4u);
  EXPECT_EQ(options->selection.gpu_type, "a100");
  EXPECT_EQ(options->selection.type_fallback, TypeFallback::strict);
  EXPECT_EQ(options->selection.min_free_bytes, 40 * kGiB);
  EXPECT_EQ(options->selection.max_temp_c, 80u);
  EXPECT_DOUBLE_EQ(*options->selection.max_power_fraction, 0.8);
  EXPECT_EQ(options->sample_window, 2s);
  EXPECT_EQ(options->selection.idle, IdleRequirement::idle_only);
  EXPECT_TRUE(options->wait);
  EXPECT_EQ(options->timeout, 120s);
  EXPECT_EQ(options->poll_interval, 500ms);
  EXPECT_TRUE(options->quiet);
  EXPECT_EQ(options->id_format, IdFormat::uuid);
  EXPECT_EQ(options->selection.claim_mode, ClaimMode::shared);
  EXPECT_EQ(options->selection.topology, TopologyUse::ignore);
  EXPECT_EQ(options->selection.numa, Locality::require);
  EXPECT_TRUE(options->bind);
}

TEST_F(ConfigTest, AFlagOnlyMinGpusCarriesAWeakerMaxGpusAlong) {
  write("user.toml", "[defaults]\nmax_gpus = 2\n");
  auto options = parse({"--min-gpus", "3", "cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->selection.max_gpus, 3u);
  write("user.toml", "[defaults]\nmin_gpus = 3\nmax_gpus = 2\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":2:1: min_gpus 3 is more than " + (temp / "user.toml") +
                                   ":3:1: max_gpus 2");
}

TEST_F(ConfigTest, UnknownKeysSuggestTheNearestWordForWord) {
  write("user.toml", "[defaults]\nmin_memory = 8000\nmax_temperature = 80\n");
  EXPECT_EQ(error_of({"cmd"}),
            (temp / "user.toml") + ":3:1: unknown key \"max_temperature\" (did you mean \"max_temp\"?)");
  write("user.toml", "[defaults]\nmax_utilisation = 80\n");
  EXPECT_EQ(error_of({"cmd"}),
            (temp / "user.toml") + ":2:1: unknown key \"max_utilisation\" (did you mean \"max_util\"?)");
  write("user.toml", "[default]\nmin_memory = 8000\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":1:2: unknown table \"default\" (did you mean \"defaults\"?)");
}

TEST_F(ConfigTest, WrongTypesSayWhatTheKeyTakes) {
  write("user.toml", "[defaults]\nrequire_idle = \"yes\"\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":2:1: require_idle: expected true or false");
  write("user.toml", "[defaults]\nmin_memory = true\n");
  EXPECT_EQ(error_of({"cmd"}),
            (temp / "user.toml") + ":2:1: min_memory: expected a number or a string such as \"40G\", \"80%\" or \"2m\"");
  write("user.toml", "min_memory = 8000\n");
  EXPECT_EQ(error_of({"cmd"}),
            (temp / "user.toml") + ":1:1: \"min_memory\" must be inside [defaults] or a [profiles.NAME] table");
}

TEST_F(ConfigTest, OutOfRangeValuesUseTheFlagsWordsWithTheLocation) {
  write("user.toml", "[profiles.hot]\nmax_power = \"120%\"\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":2:1: max_power: '120%' is more than 100% of the power limit");
  write("user.toml", "[defaults]\nmax_util = 150\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":2:1: max_util: '150' is not a percentage from 0 to 100");
  write("user.toml", "[defaults]\nmin_gpus = 0\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":2:1: min_gpus must be at least 1");
}

TEST_F(ConfigTest, TomlSyntaxErrorsGiveLineAndColumn) {
  write("user.toml", "[defaults]\nmin_memory = = 8000\n");
  std::string message = error_of({"cmd"});
  EXPECT_EQ(message.rfind((temp / "user.toml") + ":2:14: TOML syntax error: ", 0), 0u) << message;
}

// Found by fuzz_config (fuzz/regressions/config-control-char-in-table-header.toml).
TEST_F(ConfigTest, AControlCharacterInATableHeaderIsASyntaxError) {
  write("user.toml", std::string("[\x01]\nmin_memory = 1\n"));
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":1:2: TOML syntax error: Error while parsing key: expected bare key "
                                                      "starting character or string delimiter, saw '\\u0001'");
}

// Found by fuzz_config: toml++ 3.3 reaches undefined behavior on some non-ASCII
// characters where it checks for whitespace (fuzz/regressions/config-non-ascii-*.toml).
TEST_F(ConfigTest, NonAsciiIsRefusedBeforeParsing) {
  const std::string why = ": a non-ASCII character; with-gpu config files are ASCII, comments included";
  write("user.toml", "a\xc7\x95=\x02");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":1:2" + why);
  write("user.toml", "a=+'\xd0\xb0");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":1:5" + why);
  write("user.toml", "l= \"\"\"08\n  # d\xc3\xa9" "faut\n\"\"\"\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":2:6" + why);
}

TEST_F(ConfigTest, AnUnknownProfileListsTheKnownOnes) {
  write("user.toml", kSeedExample);
  EXPECT_EQ(error_of({"--profile", "lmm", "cmd"}), "unknown profile \"lmm\" (did you mean \"llm\"? known profiles: inference, llm)");
  std::remove((temp / "user.toml").c_str());
  EXPECT_EQ(error_of({"--profile", "llm", "cmd"}), "unknown profile \"llm\" (no config file defines any profile)");
}

TEST_F(ConfigTest, ShowConfigSaysWhereEachSettingComesFrom) {
  write("user.toml", kSeedExample);
  auto options = parse({"--show-config", "--profile", "llm", "--max-temp", "75"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->action, Action::print_text);
  const std::string& text = options->text;
  EXPECT_NE(text.find("min_memory     = 40000           # profile llm in " + (temp / "user.toml") + ":8:1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("max_temp       = 75              # flag\n"), std::string::npos) << text;
  EXPECT_NE(text.find("min_gpus       = 1               # built-in\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lock_dir       = /tmp/with-gpu   # built-in\n"), std::string::npos) << text;
}

// Against the current directory, not the file's: the same words as on the command line.
TEST_F(ConfigTest, ARelativeLockDirInAFileIsTakenFromTheCurrentDirectory) {
  sources.current_dir = "/home/ana/project";
  write("user.toml", "[defaults]\nlock_dir = \"claims\"\n");
  auto options = parse({"cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->lock_dir, "/home/ana/project/claims");
  auto shown = parse({"--show-config"});
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_NE(shown->text.find("lock_dir       = /home/ana/project/claims # [defaults] in " + (temp / "user.toml") +
                             ":2:1\n"),
            std::string::npos)
      << shown->text;
}

TEST_F(ConfigTest, ConfigTimeoutWithoutWaitIsSimplyInactive) {
  write("user.toml", "[defaults]\ntimeout = \"10m\"\nstrict = true\n");
  auto options = parse({"cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_FALSE(options->wait);
}

}  // namespace
}  // namespace wg

namespace wg {
namespace {

TEST(UserConfigPath, FollowsXdgConfigHomeThenHome) {
  EXPECT_EQ(user_config_path(std::string("/x"), std::string("/home/a")), "/x/with-gpu/config.toml");
  EXPECT_EQ(user_config_path(std::nullopt, std::string("/home/a")), "/home/a/.config/with-gpu/config.toml");
  EXPECT_EQ(user_config_path(std::string(""), std::string("/home/a")), "/home/a/.config/with-gpu/config.toml");
  EXPECT_EQ(user_config_path(std::nullopt, std::nullopt), "");
}

TEST_F(ConfigTest, TheSystemConfigSetsAPerUserLimit) {
  write("system.toml", "[policy]\nmax_gpus_per_user = 2\n");
  auto options = parse({"cmd"});
  ASSERT_TRUE(options) << options.error().message;
  ASSERT_TRUE(options->policy);
  EXPECT_EQ(options->policy->max_gpus_per_user, 2u);
  EXPECT_EQ(options->policy->source, temp / "system.toml");
}

TEST_F(ConfigTest, NoPolicyMeansNoLimit) {
  write("system.toml", "[defaults]\nmin_gpus = 2\n");
  auto options = parse({"cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_FALSE(options->policy);
}

TEST_F(ConfigTest, APolicyInAUsersFileIsAnErrorNamingTheFileAndLine) {
  write("user.toml", "[defaults]\nmin_gpus = 1\n[policy]\nmax_gpus_per_user = 8\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "user.toml") + ":3:2: [policy] is set only in the system config (" +
                                   (temp / "system.toml") + "); a user's file or --config cannot set it");
}

TEST_F(ConfigTest, APolicyInANamedConfigFileIsAnError) {
  write("named.toml", "[policy]\nmax_gpus_per_user = 8\n");
  EXPECT_EQ(error_of({"--config", temp / "named.toml", "cmd"}),
            (temp / "named.toml") + ":1:2: [policy] is set only in the system config (" + (temp / "system.toml") +
                "); a user's file or --config cannot set it");
}

TEST_F(ConfigTest, BadPolicyValuesAreRefusedWordForWord) {
  write("system.toml", "[policy]\nmax_gpus_per_user = 0\n");
  EXPECT_EQ(error_of({"cmd"}),
            (temp / "system.toml") + ":2:1: max_gpus_per_user: '0' is not a whole number of at least 1");
  write("system.toml", "[policy]\nmax_gpus_per_user = \"two\"\n");
  EXPECT_EQ(error_of({"cmd"}),
            (temp / "system.toml") + ":2:1: max_gpus_per_user: 'two' is not a whole number of at least 1");
  write("system.toml", "[policy]\nmax_gpu_per_user = 2\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "system.toml") +
                                   ":2:1: unknown key \"max_gpu_per_user\" (did you mean \"max_gpus_per_user\"?)");
  write("system.toml", "policy = 2\n");
  EXPECT_EQ(error_of({"cmd"}), (temp / "system.toml") + ":1:1: policy must be a table ([policy])");
}

TEST_F(ConfigTest, FlagsDoNotLiftThePolicy) {
  write("system.toml", "[policy]\nmax_gpus_per_user = 1\n");
  write("user.toml", "[defaults]\nmin_gpus = 4\n");
  auto options = parse({"--max-gpus", "8", "cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->policy->max_gpus_per_user, 1u);
}

TEST_F(ConfigTest, ShowConfigShowsThePolicyAndWhereItComesFrom) {
  write("system.toml", "[defaults]\nmin_gpus = 1\n\n[policy]\nmax_gpus_per_user = 2\n");
  auto shown = parse({"--show-config"});
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_NE(shown->text.find("max_gpus_per_user = 2               # policy in " + (temp / "system.toml") + ":5:1\n"),
            std::string::npos)
      << shown->text;
}

}  // namespace
}  // namespace wg
