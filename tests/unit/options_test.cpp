#include "cli/options.hpp"

#include <gtest/gtest.h>

#include "core/units.hpp"
#include "support/parse_helpers.hpp"

namespace wg {
namespace {

using namespace std::chrono_literals;

Result<Options> parse(std::vector<std::string> args) {
  SettingSources no_files;
  no_files.system_config = "/nonexistent/with-gpu/config.toml";
  return test::parse_with(std::move(args), no_files);
}

std::string error_of(std::vector<std::string> args) { return test::usage_message(parse(std::move(args))); }

TEST(Options, DefaultsMatch05) {
  auto options = parse({"python", "train.py"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->selection.min_gpus, 1u);
  EXPECT_EQ(options->selection.max_gpus, 1u);
  EXPECT_EQ(options->selection.min_free_bytes, 2048 * kMiB);
  EXPECT_FALSE(options->selection.max_util_percent);
  EXPECT_EQ(options->poll_interval, 5s);
  EXPECT_EQ(options->command, std::vector<std::string>({"python", "train.py"}));
}

TEST(Options, PassesHyphenatedCommandArgumentsThrough) {
  auto options = parse({"--min-gpus", "2", "python", "train.py", "--lr", "3", "--gpu", "7"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->selection.min_gpus, 2u);
  EXPECT_FALSE(options->gpu_list);
  EXPECT_EQ(options->command, std::vector<std::string>({"python", "train.py", "--lr", "3", "--gpu", "7"}));
}

TEST(Options, DoubleDashStartsTheCommand) {
  auto options = parse({"--", "--weird-program", "-x"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->command, std::vector<std::string>({"--weird-program", "-x"}));
}

TEST(Options, MaxGpusDefaultsToMinGpus) {
  auto options = parse({"--min-gpus", "3", "cmd"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->selection.max_gpus, 3u);
  auto ranged = parse({"--min-gpus", "1", "--max-gpus", "4", "cmd"});
  ASSERT_TRUE(ranged);
  EXPECT_EQ(ranged->selection.max_gpus, 4u);
}

TEST(Options, ParsesThresholdsWithUnits) {
  auto options = parse({"--min-memory", "8G", "--max-util", "70", "--require-idle", "cmd"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->selection.min_free_bytes, 8 * kGiB);
  EXPECT_EQ(options->selection.max_util_percent, 70u);
  EXPECT_EQ(options->selection.idle, IdleRequirement::idle_only);
  auto equals_form = parse({"--min-memory=8000", "cmd"});
  ASSERT_TRUE(equals_form);
  EXPECT_EQ(equals_form->selection.min_free_bytes, 8000 * kMiB);
}

TEST(Options, ParsesWaitingDurations) {
  auto options = parse({"--wait", "--timeout", "90s", "--poll-interval", "500ms", "cmd"});
  ASSERT_TRUE(options);
  EXPECT_TRUE(options->wait);
  EXPECT_EQ(options->timeout, 90s);
  EXPECT_EQ(options->poll_interval, 500ms);
  auto bare = parse({"--wait", "--timeout", "30", "cmd"});
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->timeout, 30s);
}

TEST(Options, StatusAndDryRunNeedNoCommand) {
  auto status = parse({"--status", "--json"});
  ASSERT_TRUE(status);
  EXPECT_EQ(status->action, Action::status);
  EXPECT_EQ(status->output, Output::json);
  auto dry = parse({"--dry-run"});
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->action, Action::dry_run);
}

TEST(Options, VersionAndHelpPrintText) {
  auto version = parse({"--version"});
  ASSERT_TRUE(version);
  EXPECT_EQ(version->action, Action::print_text);
  EXPECT_EQ(version->text.rfind("with-gpu ", 0), 0u);
  auto help = parse({"-h"});
  ASSERT_TRUE(help);
  EXPECT_NE(help->text.find("thresholds:"), std::string::npos);
  EXPECT_NE(help->text.find("124       --wait --timeout ran out"), std::string::npos);
}

TEST(Options, UsageErrorsNameTheFlagWordForWord) {
  EXPECT_EQ(error_of({"--min-gpus", "0", "cmd"}), "--min-gpus must be at least 1");
  EXPECT_EQ(error_of({"--min-gpus", "two", "cmd"}), "--min-gpus: 'two' is not a whole number");
  EXPECT_EQ(error_of({"--min-gpus", "3", "--max-gpus", "2", "cmd"}), "--min-gpus 3 is more than --max-gpus 2");
  EXPECT_EQ(error_of({"--min-memory", "lots", "cmd"}),
            "--min-memory: 'lots' is not a size (e.g. 8000 for MiB, 8G, 1.5GiB, 500MB)");
  EXPECT_EQ(error_of({"--max-util", "101", "cmd"}), "--max-util: '101' is not a percentage from 0 to 100");
  EXPECT_EQ(error_of({"--timeout", "5", "cmd"}), "--timeout needs --wait");
  EXPECT_EQ(error_of({"--wait", "--timeout", "soon", "cmd"}),
            "--timeout: 'soon' is not a duration (e.g. 30, 90s, 5m, 1h)");
  EXPECT_EQ(error_of({"--strict", "cmd"}), "--strict needs --gpu-type");
  EXPECT_EQ(error_of({"--json", "cmd"}), "--json goes with --status or --dry-run");
  EXPECT_EQ(error_of({"--status", "--print-env"}), "--status, --dry-run and --print-env cannot be combined");
  EXPECT_EQ(error_of({"--print-env", "python"}), "--print-env takes no command (got 'python')");
  EXPECT_EQ(error_of({"--id-format", "pci", "cmd"}), "--id-format: 'pci' is not one of auto, index, uuid");
  EXPECT_EQ(error_of({"--gpu", "1,1", "cmd"}), "--gpu lists '1' twice");
  EXPECT_EQ(error_of({}), "no command given; usage: with-gpu [OPTIONS] COMMAND [ARGS...] (see with-gpu --help)");
}

TEST(Options, ParsesSensorThresholds) {
  auto options = parse({"--max-temp", "75", "--max-power", "80%", "--sample-window", "2s", "cmd"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->selection.max_temp_c, 75u);
  EXPECT_DOUBLE_EQ(*options->selection.max_power_fraction, 0.8);
  EXPECT_FALSE(options->selection.max_power_w);
  EXPECT_EQ(options->sample_window, 2s);
  EXPECT_EQ(options->selection.sample_window_ms, 2000);
  auto watts = parse({"--max-power", "250W", "cmd"});
  ASSERT_TRUE(watts);
  EXPECT_DOUBLE_EQ(*watts->selection.max_power_w, 250.0);
  EXPECT_DOUBLE_EQ(*parse({"--max-power", "172.5", "cmd"})->selection.max_power_w, 172.5);
}

TEST(Options, BadSensorThresholdsAreUsageErrorsNamingTheFlag) {
  EXPECT_EQ(error_of({"--max-temp", "abc", "cmd"}), "--max-temp: 'abc' is not a temperature in degrees Celsius (e.g. 80)");
  EXPECT_EQ(error_of({"--max-temp", "-5", "cmd"}), "--max-temp: '-5' is not a temperature in degrees Celsius (e.g. 80)");
  EXPECT_EQ(error_of({"--max-power", "120%", "cmd"}), "--max-power: '120%' is more than 100% of the power limit");
  EXPECT_EQ(error_of({"--max-power", "-5", "cmd"}),
            "--max-power: '-5' is not watts or a percentage of the power limit (e.g. 250, 250W, 80%)");
  EXPECT_EQ(error_of({"--max-power", "lots", "cmd"}),
            "--max-power: 'lots' is not watts or a percentage of the power limit (e.g. 250, 250W, 80%)");
  EXPECT_EQ(error_of({"--sample-window", "50ms", "cmd"}),
            "--sample-window: '50ms' is not a duration from 100ms to 10m (e.g. 5s)");
}

TEST(Options, UnknownOptionsGetDidYouMean) {
  EXPECT_EQ(error_of({"--min-mem", "8G", "cmd"}), "unknown option '--min-mem' (did you mean '--min-memory'?)");
  EXPECT_EQ(error_of({"--requre-idle", "cmd"}), "unknown option '--requre-idle' (did you mean '--require-idle'?)");
  EXPECT_EQ(error_of({"--frobnicate", "cmd"}), "unknown option '--frobnicate'; see with-gpu --help");
}

// The nearest spelling of --gpus is --gpu, which pins GPU 2: people asking for two GPUs
// in the words of Slurm or nvisel are pointed at the flag that asks for a count.
TEST(Options, FlagsOfOtherToolsPointToOurs) {
  EXPECT_EQ(error_of({"--gpus", "2", "cmd"}),
            "unknown option '--gpus' (did you mean '--min-gpus'? with-gpu's --gpu picks GPUs by index)");
  EXPECT_EQ(error_of({"-g", "2", "cmd"}),
            "unknown option '-g' (did you mean '--min-gpus'? with-gpu's --gpu picks GPUs by index)");
  EXPECT_EQ(error_of({"-g2", "cmd"}),
            "unknown option '-g' (did you mean '--min-gpus'? with-gpu's --gpu picks GPUs by index)");
  EXPECT_EQ(error_of({"--count", "2", "cmd"}), "unknown option '--count' (did you mean '--min-gpus'?)");
  EXPECT_EQ(error_of({"--gres=gpu:2", "cmd"}),
            "unknown option '--gres' (did you mean '--min-gpus'? with --gres=gpu:N, Slurm already sets "
            "CUDA_VISIBLE_DEVICES and with-gpu stays inside it)");
  EXPECT_EQ(error_of({"--min-free-memory", "10G", "cmd"}),
            "unknown option '--min-free-memory' (did you mean '--min-memory'?)");
  EXPECT_EQ(error_of({"--max-gpu-utilization", "10", "cmd"}),
            "unknown option '--max-gpu-utilization' (did you mean '--max-util'?)");
}

TEST(Options, InstallKernelKeepsTheOtherFlagsForTheKernel) {
  auto options = parse({"--min-memory", "8G", "--install-kernel", "lab", "--wait", "--gpu-type", "A100"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->action, Action::install_kernel);
  EXPECT_EQ(options->kernel_name, "lab");
  EXPECT_EQ(options->kernel_flags, (std::vector<std::string>{"--min-memory", "8G", "--wait", "--gpu-type", "A100"}));
  auto separated = parse({"--install-kernel", "lab", "--wait", "--"});
  ASSERT_TRUE(separated) << separated.error().message;
  EXPECT_EQ(separated->kernel_flags, std::vector<std::string>{"--wait"});  // the kernelspec adds its own "--"
  EXPECT_EQ(error_of({"--install-kernel", "-lab"}),
            "--install-kernel: '-lab' is not a kernel name (letters, digits, '.', '_' and '-', as Jupyter allows)");
  EXPECT_EQ(error_of({"--install-kernel", "my lab"}),
            "--install-kernel: 'my lab' is not a kernel name (letters, digits, '.', '_' and '-', as Jupyter allows)");
  EXPECT_EQ(error_of({"--install-kernel", "lab", "--status"}),
            "--install-kernel writes a Jupyter kernel and exits; it goes with no other action");
  EXPECT_EQ(error_of({"--install-kernel", "lab", "python"}), "--install-kernel takes no command (got 'python')");
  EXPECT_EQ(error_of({"--install-kernel"}), "--install-kernel needs a value");
}

TEST(Options, AMissingValueIsAUsageError) {
  auto options = parse({"--min-memory"});
  ASSERT_FALSE(options);
  EXPECT_EQ(options.error().kind, ErrorKind::usage);
}

TEST(Options, TopologyNumaAndBind) {
  auto options = parse({"--topology", "ignore", "--numa", "require", "--bind", "cmd"});
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->selection.topology, TopologyUse::ignore);
  EXPECT_EQ(options->selection.numa, Locality::require);
  EXPECT_TRUE(options->bind);
  EXPECT_FALSE(options->show_topology);
  EXPECT_EQ(options->command, (std::vector<std::string>{"cmd"}));
  auto defaults = parse({"cmd"});
  EXPECT_EQ(defaults->selection.topology, TopologyUse::prefer);
  EXPECT_EQ(defaults->selection.numa, Locality::prefer);
  EXPECT_FALSE(defaults->bind);
}

TEST(Options, BareTopologyShowsTheMatrixWithStatusOnly) {
  auto status = parse({"--status", "--topology"});
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_TRUE(status->show_topology);
  EXPECT_EQ(status->action, Action::status);
  auto first = parse({"--topology", "--status"});
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->show_topology);
  EXPECT_EQ(error_of({"--topology", "--", "cmd"}),
            "--topology without a value goes with --status; to choose GPUs: --topology prefer|ignore");
}

TEST(Options, TopologyAndNumaValuesAreCheckedWordForWord) {
  EXPECT_EQ(error_of({"--topology", "nvlink", "cmd"}), "--topology: 'nvlink' is not one of prefer, ignore");
  EXPECT_EQ(error_of({"--numa", "strict", "cmd"}), "--numa: 'strict' is not one of prefer, require, ignore");
  EXPECT_EQ(error_of({"--bind", "--print-env"}), "--bind pins a command that with-gpu runs; --print-env runs none");
  EXPECT_EQ(error_of({"--status", "--bind"}), "--bind pins a command that with-gpu runs; --status runs none");
}

// CLI11 hands a value-taking option the next word even when it is an option: a typo
// would turn `--dry-run` into a directory and run the command for real.
TEST(Options, AValueTakingOptionFollowedByAnOptionIsAUsageError) {
  EXPECT_EQ(error_of({"--lock-dir", "--dry-run", "sh", "-c", "echo RAN"}),
            "--lock-dir needs a value (got the option '--dry-run')");
  EXPECT_EQ(error_of({"--gpu-type", "--dry-run", "cmd"}), "--gpu-type needs a value (got the option '--dry-run')");
  for (const char* flag : {"--gpu", "--min-gpus", "--max-gpus", "--gpu-type", "--min-memory", "--max-util",
                           "--max-temp", "--max-power", "--sample-window", "--timeout", "--poll-interval",
                           "--id-format", "--lock-dir", "--numa", "--config", "--profile"}) {
    EXPECT_EQ(error_of({"--wait", flag, "--quiet", "cmd"}), std::string(flag) + " needs a value (got the option '--quiet')");
    EXPECT_EQ(error_of({flag, "-n", "cmd"}), std::string(flag) + " needs a value (got the option '-n')");
    EXPECT_EQ(error_of({flag, "--", "cmd"}), std::string(flag) + " needs a value (got '--')");
    EXPECT_EQ(error_of({"--wait", flag}), std::string(flag) + " needs a value");
  }
  EXPECT_EQ(error_of({"--topology", "ignore", "--lock-dir", "--dry-run", "cmd"}),
            "--lock-dir needs a value (got the option '--dry-run')");
  EXPECT_EQ(error_of({"--max-temp", "-5", "cmd"}), "--max-temp: '-5' is not a temperature in degrees Celsius (e.g. 80)");
  auto spelled_out = parse({"--gpu-type=--odd", "cmd"});
  ASSERT_TRUE(spelled_out) << spelled_out.error().message;
  EXPECT_EQ(spelled_out->selection.gpu_type, "--odd");
}

TEST(Options, EmptyValuesAreUsageErrors) {
  EXPECT_EQ(error_of({"--gpu", "", "cmd"}), "--gpu needs at least one GPU index or UUID");
  EXPECT_EQ(error_of({"--gpu-type", "", "cmd"}), "--gpu-type must not be empty");
  EXPECT_EQ(error_of({"--lock-dir", "", "cmd"}), "--lock-dir must not be empty");
  EXPECT_EQ(error_of({"--config", "", "cmd"}), "--config must not be empty");
  EXPECT_EQ(error_of({"--profile", "", "cmd"}), "--profile must not be empty");
}

// Found by hand: a 17-character value made the padding negative and std::string threw.
TEST(Options, ShowConfigPrintsLongEmptyAndNonAsciiValues) {
  SettingSources sources;
  sources.system_config = "/nonexistent/with-gpu/config.toml";
  sources.lock_dir = "/scratch/gpu-claims";
  auto options = test::parse_with({"--show-config", "--gpu-type", "Ärger-GPU", "--numa", "require"}, sources);
  ASSERT_TRUE(options) << options.error().message;
  const std::string& text = options->text;
  EXPECT_NE(text.find("lock_dir       = /scratch/gpu-claims # WITH_GPU_LOCK_DIR\n"), std::string::npos) << text;
  EXPECT_NE(text.find("gpu_type       = Ärger-GPU       # flag\n"), std::string::npos) << text;
  EXPECT_NE(text.find("numa           = require         # flag\n"), std::string::npos) << text;
  sources.lock_dir = "/" + std::string(5000, 'x');
  auto huge = test::parse_with({"--show-config"}, sources);
  ASSERT_TRUE(huge) << huge.error().message;
  EXPECT_NE(huge->text.find("lock_dir       = /" + std::string(5000, 'x') + " # WITH_GPU_LOCK_DIR\n"),
            std::string::npos);
}

// A relative lock dir would name another directory for every command that changes its
// own directory, and for every user starting in another one.
TEST(Options, ARelativeLockDirIsMadeAbsoluteAgainstTheCurrentDirectory) {
  SettingSources sources;
  sources.system_config = "/nonexistent/with-gpu/config.toml";
  sources.current_dir = "/home/ana/project";
  EXPECT_EQ(test::parse_with({"--lock-dir", "claims", "cmd"}, sources)->lock_dir, "/home/ana/project/claims");
  EXPECT_EQ(test::parse_with({"--lock-dir", "./claims/", "cmd"}, sources)->lock_dir, "/home/ana/project/claims");
  EXPECT_EQ(test::parse_with({"--lock-dir", ".", "cmd"}, sources)->lock_dir, "/home/ana/project");
  EXPECT_EQ(test::parse_with({"--lock-dir", "../shared//claims", "cmd"}, sources)->lock_dir,
            "/home/ana/project/../shared/claims");
  EXPECT_EQ(test::parse_with({"--lock-dir", "/srv/claims/", "cmd"}, sources)->lock_dir, "/srv/claims/");
  sources.lock_dir = "from-env";
  EXPECT_EQ(test::parse_with({"cmd"}, sources)->lock_dir, "/home/ana/project/from-env");
  auto shown = test::parse_with({"--show-config"}, sources);
  ASSERT_TRUE(shown) << shown.error().message;
  EXPECT_NE(shown->text.find("lock_dir       = /home/ana/project/from-env # WITH_GPU_LOCK_DIR\n"), std::string::npos)
      << shown->text;
}

}  // namespace
}  // namespace wg

namespace wg {
namespace {

TEST(Options, InitLockDirTakesAnOptionalAbsolutePathAndNoCommand) {
  auto bare = parse({"--init-lock-dir"});
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->action, Action::init_lock_dir);
  EXPECT_FALSE(bare->init_lock_dir);  // the default, /run/with-gpu
  auto given = parse({"--init-lock-dir", "/srv/gpu-claims"});
  ASSERT_TRUE(given);
  EXPECT_EQ(given->init_lock_dir, "/srv/gpu-claims");
  EXPECT_EQ(error_of({"--init-lock-dir", "claims"}), "--init-lock-dir: 'claims' is not an absolute path");
  EXPECT_EQ(error_of({"--init-lock-dir", "/x", "--", "true"}), "--init-lock-dir takes no command (got 'true')");
  EXPECT_EQ(error_of({"--init-lock-dir", "--status"}),
            "--init-lock-dir makes the claims directory and exits; it goes with no other action");
}

TEST(Options, ShowConfigNamesTheDefaultLockDirectoryInForce) {
  SettingSources sources;
  sources.system_config = "/nonexistent/with-gpu.toml";
  sources.default_lock_dir = "/run/with-gpu";
  auto options = parse_options({"with-gpu", "--show-config"}, sources);
  ASSERT_TRUE(options);
  EXPECT_NE(options->text.find("lock_dir       = /run/with-gpu   # built-in\n"), std::string::npos) << options->text;
}

TEST(Options, MigProfileIsAProfileNameInLowercase) {
  auto options = parse({"--mig-profile", "3G.40GB", "python"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->selection.mig_profile, "3g.40gb");
  auto compute = parse({"--mig-profile=1c.3g.40gb", "python"});
  ASSERT_TRUE(compute);
  EXPECT_EQ(compute->selection.mig_profile, "1c.3g.40gb");
  EXPECT_FALSE(parse({"python"})->selection.mig_profile);
  EXPECT_EQ(error_of({"--mig-profile", "3g", "python"}),
            "--mig-profile: '3g' is not a MIG profile (e.g. 1g.10gb, 3g.40gb, 1c.3g.40gb)");
}

TEST(Options, MigProfileIsForALaunchNotForStatus) {
  EXPECT_EQ(error_of({"--status", "--mig-profile", "3g.40gb"}),
            "--mig-profile does not apply to --status, which shows every GPU (--gpu and --gpu-type pick rows); "
            "to see what a launch would choose, use --dry-run");
}

}  // namespace
}  // namespace wg
