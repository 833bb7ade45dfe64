// Claims against careless and hostile neighbours (issue 12): other users of the machine
// hold stray descriptors, replace or plant lock files, remove the directory and race
// root's launches. The tests run as root (as CI does) and act as two unprivileged users,
// wg-alice (the victim) and wg-mallory (the neighbour); elsewhere each test skips and
// says why. Every run is bounded: a launch that hangs fails its test instead.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "support/e2e_fixture.hpp"
#include "support/neighbour.hpp"

namespace wg::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// What a bounded run did: its exit status (none when it had to be killed) and output.
struct Outcome {
  std::optional<int> exit_code;
  std::string out;
  std::string err;
};

std::string describe(const Outcome& outcome) {
  std::string status = outcome.exit_code ? "exit " + std::to_string(*outcome.exit_code)
                                         : std::string("still running at its time limit (killed)");
  return status + "\nstdout: " + outcome.out + "\nstderr: " + outcome.err;
}

bool exists(const std::string& path) {
  struct stat info {};
  return lstat(path.c_str(), &info) == 0;
}

// The permission bits in octal ("700"); "missing" when there is nothing at PATH.
std::string mode_of(const std::string& path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) return "missing";
  char text[8];
  std::snprintf(text, sizeof text, "%o", info.st_mode & 07777);
  return text;
}

// The line of `text` that starts with `prefix` ("" when none).
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

std::vector<std::string> plus(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// The users, and copies of the binaries in a directory every user can read: the build
// directory may be private to root (a home directory, a 0700 temporary directory).
struct Suite {
  std::optional<Neighbour> alice;
  std::optional<Neighbour> mallory;
  std::string skip_reason;
  std::unique_ptr<SharedBinaries> binaries;
  std::string with_gpu;
  std::string nvml_double;
  std::string pause_shim;
};

Suite& suite() {
  static Suite instance;
  return instance;
}

const Neighbour kRoot{"root", 0, 0};

class HostileNeighbour : public E2E {
 protected:
  static void SetUpTestSuite() {
    Suite& s = suite();
    auto alice = ensure_neighbour("wg-alice");
    auto mallory = ensure_neighbour("wg-mallory");
    if (!alice.user || !mallory.user) {
      s.skip_reason = "hostile-neighbour tests need two unprivileged users and cannot have them here: " +
                      (alice.user ? mallory.reason : alice.reason);
      return;
    }
    s.alice = alice.user;
    s.mallory = mallory.user;
    s.binaries = std::make_unique<SharedBinaries>("with-gpu-hostile-bin");
    if (!s.binaries->ok()) {
      s.skip_reason = "cannot create a directory for the binaries under /tmp";
      return;
    }
    s.with_gpu = s.binaries->publish(WITH_GPU_BINARY, "with-gpu");
    s.nvml_double = s.binaries->publish(NVML_DOUBLE, "libnvidia-ml-double.so");
    s.pause_shim = s.binaries->publish(PAUSE_SHIM, "libpause-shim.so");
  }

  static void TearDownTestSuite() { suite().binaries.reset(); }

  HostileNeighbour() {
    // Like /tmp itself: every user reaches it, nobody removes another's files. (The
    // fixture's TempDir is mkdtemp's 0700, out of the other users' reach.)
    world = make_world_dir("with-gpu-hostile");
    machine_path = world + "/machine.json";
    lock_dir = world + "/locks";
    env["NVML_DOUBLE_MACHINE"] = machine_path;
    env["WITH_GPU_LOCK_DIR"] = lock_dir;
    env["WITH_GPU_SYSTEM_CONFIG"] = world + "/no-system-config.toml";
    env["WITH_GPU_NVML_LIBRARY"] = suite().nvml_double;
    env["WG_BIN"] = suite().with_gpu;  // for shell scripts run as the users
    env["PROBE"] = kProbe[2];
  }

  ~HostileNeighbour() override {
    std::error_code ignored;
    if (!world.empty()) fs::remove_all(world, ignored);
  }

  void SetUp() override {
    if (!suite().skip_reason.empty()) GTEST_SKIP() << suite().skip_reason;
    ASSERT_FALSE(world.empty()) << "cannot create a shared directory under /tmp";
    publish_machine(machine_of({gpu(0), gpu(1)}));
  }

  void publish_machine(const json& machine) const {
    write_machine(machine);
    chmod(machine_path.c_str(), 0644);  // whatever the umask: the users' with-gpu reads it
  }

  static const Neighbour& alice() { return *suite().alice; }
  // The environment that pauses a launch in the pause shim (see tests/shims/pause_shim.cpp).
  static Env paused_at(const std::string& pause, const std::string& before, const std::string& match) {
    // A sanitized with-gpu wants its runtime first in the library list; the shim may go first.
    return {{"LD_PRELOAD", suite().pause_shim}, {"WG_TEST_PAUSE", pause}, {"WG_TEST_PAUSE_BEFORE", before},
            {"WG_TEST_PAUSE_MATCH", match}, {"ASAN_OPTIONS", "verify_asan_link_order=0"}};
  }
  static const Neighbour& mallory() { return *suite().mallory; }

  std::string lock_path(int index) const {
    return lock_dir + "/gpu-" + gpu(index)["uuid"].get<std::string>().substr(4) + ".lock";
  }
  std::string in_world(const std::string& name) const { return world + "/" + name; }

  // Starts ARGV as WHO ("with-gpu" as argv[0] is the built binary); output in NAME.out, NAME.err.
  std::unique_ptr<Spawned> start_as(const Neighbour& who, std::vector<std::string> argv, const std::string& name,
                                    const Env& extra = {}) const {
    if (argv.front() == "with-gpu") argv.front() = suite().with_gpu;
    Env merged = env;
    for (const auto& [key, value] : extra) merged[key] = value;
    return std::make_unique<Spawned>(who.command(argv), merged, in_world(name + ".out"), in_world(name + ".err"));
  }

  // Runs ARGV as WHO to its end, killing it (and what it started) after `limit`.
  Outcome run_as(const Neighbour& who, const std::vector<std::string>& argv, std::chrono::milliseconds limit = 10s,
                 const Env& extra = {}) {
    std::string name = "run-" + std::to_string(++runs_);
    Outcome outcome;
    {
      auto process = start_as(who, argv, name, extra);
      outcome.exit_code = process->wait_for(limit);
    }
    outcome.out = read_file(in_world(name + ".out"));
    outcome.err = read_file(in_world(name + ".err"));
    return outcome;
  }

  Outcome shell_as(const Neighbour& who, const std::string& script, std::chrono::milliseconds limit = 10s) {
    return run_as(who, {"/bin/sh", "-c", script}, limit);
  }

  // The lock directory as with-gpu makes it, by a launch of wg-alice's on GPU 1.
  void create_lock_dir() {
    auto made = run_as(alice(), {"with-gpu", "--quiet", "--gpu", "1", "--", "true"});
    ASSERT_EQ(made.exit_code, 0) << describe(made);
  }

  bool said_waiting(const std::string& name) const {
    return eventually([&] { return contains(read_file(in_world(name + ".err")), "with-gpu: waiting"); }, 5s);
  }

  std::string world;

 private:
  int runs_ = 0;
};

// 1. A stray descriptor ------------------------------------------------------------

// The shell idiom that leaves a lock-file descriptor open without close-on-exec.
std::string stray_descriptor_then(const std::string& lock, const std::string& launch) {
  return "exec 9<'" + lock + "'; flock -n 9 || echo busy; " + launch;
}

TEST_F(HostileNeighbour, AStrayLockFileDescriptorIsNotTakenForAnInheritedClaim) {
  auto holder = start_as(alice(), {"with-gpu", "--gpu", "0", "--", "sleep", "30"}, "alice");
  ASSERT_FALSE(wait_for_claims(0, "sleep 30").empty());
  auto stray = shell_as(mallory(), stray_descriptor_then(lock_path(0), "exec \"$WG_BIN\" --gpu 0 -- sh -c \"$PROBE\""));
  EXPECT_EQ(stray.exit_code, 4) << describe(stray);
  EXPECT_EQ(stray.out, "busy\n") << "the command must not run on wg-alice's GPU\n" << describe(stray);
  EXPECT_TRUE(contains(stray.err, "wg-alice")) << stray.err;
}

TEST_F(HostileNeighbour, AStrayLockFileDescriptorLeavesAutomaticSelectionToTheFreeGpu) {
  auto holder = start_as(alice(), {"with-gpu", "--gpu", "0", "--", "sleep", "30"}, "alice");
  ASSERT_FALSE(wait_for_claims(0, "sleep 30").empty());
  auto stray = shell_as(mallory(), stray_descriptor_then(lock_path(0), "exec \"$WG_BIN\" -- sh -c \"$PROBE\""));
  EXPECT_EQ(stray.exit_code, 0) << describe(stray);
  EXPECT_EQ(stray.out, "busy\n1|PCI_BUS_ID\n") << describe(stray);
}

TEST_F(HostileNeighbour, ARealNestedRunStillUsesItsParentsGpu) {
  auto nested = shell_as(alice(), "exec \"$WG_BIN\" --quiet --gpu 0 -- "
                                  "sh -c '\"$WG_BIN\" --quiet --gpu 0 -- sh -c \"$PROBE\"'");
  EXPECT_EQ(nested.exit_code, 0) << describe(nested);
  EXPECT_EQ(nested.out, "0|PCI_BUS_ID\n") << describe(nested);
}

// 2. A lock file replaced during a claim ---------------------------------------------

// wg-alice's launch opens GPU 0's lock file (wg-mallory's, left by her earlier run) and
// is paused before its flock; wg-mallory deletes the file and her next launch locks a
// new one and runs. Then wg-alice's flock goes ahead on the deleted file. Returns
// wg-alice's outcome; what her command saw is in alice.ran.
class ReplacedLockFile : public HostileNeighbour {
 protected:
  Outcome race(const std::vector<std::string>& alice_options) {
    auto first = run_as(mallory(), {"with-gpu", "--quiet", "--gpu", "0", "--", "true"});
    EXPECT_EQ(first.exit_code, 0) << describe(first);
    std::string pause = in_world("pause");
    auto paused = start_as(alice(),
                           plus(plus({"with-gpu"}, alice_options),
                                {"--", "sh", "-c", "echo \"$CUDA_VISIBLE_DEVICES\" > " + in_world("alice.ran")}),
                           "alice", paused_at(pause, "flock", fs::path(lock_path(0)).filename().string()));
    EXPECT_TRUE(eventually([&] { return exists(pause + ".paused"); }, 10s)) << "wg-alice's launch never reached flock";
    auto removed = run_as(mallory(), {"rm", "-f", lock_path(0)});
    EXPECT_EQ(removed.exit_code, 0) << describe(removed);
    replacing = start_as(mallory(), {"with-gpu", "--gpu", "0", "--", "sh", "-c",
                                     "touch " + in_world("mallory.running") + "; exec sleep 30"},
                         "mallory");
    EXPECT_TRUE(eventually([&] { return exists(in_world("mallory.running")); }, 10s))
        << read_file(in_world("mallory.err"));
    std::ofstream(pause + ".go") << "go\n";
    Outcome outcome;
    outcome.exit_code = paused->wait_for(10s);
    outcome.out = read_file(in_world("alice.out"));
    outcome.err = read_file(in_world("alice.err"));
    return outcome;
  }

  std::unique_ptr<Spawned> replacing;
};

TEST_F(ReplacedLockFile, AManualLaunchFindsTheGpuClaimedThroughTheNewFile) {
  auto alice_run = race({"--gpu", "0"});
  EXPECT_EQ(alice_run.exit_code, 4) << describe(alice_run);
  EXPECT_FALSE(exists(in_world("alice.ran"))) << "wg-alice's command ran on GPU " << read_file(in_world("alice.ran"))
                                               << " while wg-mallory's held GPU 0";
  EXPECT_TRUE(replacing->running());
}

TEST_F(ReplacedLockFile, AnAutomaticLaunchMovesToAnotherGpu) {
  auto alice_run = race({});
  EXPECT_EQ(alice_run.exit_code, 0) << describe(alice_run);
  EXPECT_EQ(read_file(in_world("alice.ran")), "1\n") << "wg-mallory's command holds GPU 0\n" << describe(alice_run);
  EXPECT_TRUE(replacing->running());
}

// 3. The lock directory removed --------------------------------------------------------

TEST_F(HostileNeighbour, RemovingTheLockDirDoesNotStartAWaiterOnAHeldGpu) {
  auto holder = start_as(alice(), {"with-gpu", "--gpu", "0", "--", "sleep", "30"}, "alice");
  ASSERT_FALSE(wait_for_claims(0, "sleep 30").empty());
  std::string ran = in_world("waiter.ran");
  auto waiter = start_as(mallory(), {"with-gpu", "--gpu", "0", "--wait", "--poll-interval", "100ms", "--", "sh", "-c",
                                     "echo \"$CUDA_VISIBLE_DEVICES\" > " + ran},
                         "waiter");
  ASSERT_TRUE(said_waiting("waiter")) << read_file(in_world("waiter.err"));

  std::error_code removed;
  fs::remove_all(lock_dir, removed);  // as root: a /tmp cleaner, an admin
  ASSERT_FALSE(removed) << removed.message();
  // Something not happening can only be watched for a while: 20 of the waiter's polls.
  EXPECT_FALSE(eventually([&] { return exists(ran); }, 2s))
      << "the waiter started on GPU 0 while wg-alice's command still ran there\n"
      << read_file(in_world("waiter.err"));

  holder->signal(SIGKILL);
  holder->wait_for(5s);
  EXPECT_TRUE(eventually([&] { return exists(ran); }, 10s))
      << "the waiter did not start once GPU 0 was free\n" << read_file(in_world("waiter.err"));
  EXPECT_EQ(read_file(ran), "0\n");
  EXPECT_EQ(waiter->wait_for(5s), 0);
}

// 5. A FIFO at a lock path ---------------------------------------------------------------

class PlantedFifo : public HostileNeighbour {
 protected:
  void SetUp() override {
    HostileNeighbour::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    create_lock_dir();
    auto planted = run_as(mallory(), {"mkfifo", "-m", "0666", lock_path(0)});
    ASSERT_EQ(planted.exit_code, 0) << describe(planted);
  }
};

TEST_F(PlantedFifo, ALaunchRunsOnTheOtherGpuPromptly) {
  auto launch = run_as(alice(), plus({"with-gpu", "--"}, kProbe), 5s);
  EXPECT_EQ(launch.exit_code, 0) << describe(launch);
  EXPECT_EQ(launch.out, "1|PCI_BUS_ID\n") << describe(launch);
}

TEST_F(PlantedFifo, AWaitOnThatGpuEndsAtItsTimeout) {
  auto started = std::chrono::steady_clock::now();
  auto launch = run_as(alice(), plus({"with-gpu", "--gpu", "0", "--wait", "--timeout", "1", "--"}, kProbe), 10s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  ASSERT_TRUE(launch.exit_code.has_value()) << "hung past 10 s with --timeout 1\n" << describe(launch);
  EXPECT_EQ(*launch.exit_code, 124) << describe(launch);  // the owner may still remove it: worth waiting for
  EXPECT_EQ(launch.out, "");
  EXPECT_GE(took, 1s);
  EXPECT_LT(took, 3s) << "the timeout is 1 s";
}

TEST_F(PlantedFifo, SigintEndsAWaitOnThatGpu) {
  auto waiter = start_as(alice(), plus({"with-gpu", "--gpu", "0", "--wait", "--"}, kProbe), "waiter");
  // Signalled before with-gpu handles signals, it would die of SIGINT and pass for it.
  EXPECT_TRUE(said_waiting("waiter")) << "never said it was waiting\n" << read_file(in_world("waiter.err"));
  waiter->signal(SIGINT);
  auto status = waiter->wait_for(5s);
  ASSERT_TRUE(status.has_value()) << "SIGINT did not end the wait within 5 s";
  EXPECT_EQ(*status, 130);
  EXPECT_TRUE(waiter->exited()) << "killed by the signal instead of handling it";
  EXPECT_EQ(read_file(in_world("waiter.out")), "");
}

// 6. A planted file, link, directory or FIFO ---------------------------------------------

enum class Plant { private_file, symlink, directory, fifo };

std::string plant_name(Plant plant) {
  switch (plant) {
    case Plant::private_file: return "PrivateFile";
    case Plant::symlink: return "Symlink";
    case Plant::directory: return "Directory";
    case Plant::fifo: return "Fifo";
  }
  return "Unknown";
}

void PrintTo(Plant plant, std::ostream* out) { *out << plant_name(plant); }

class PlantedAtALockPath : public HostileNeighbour, public ::testing::WithParamInterface<Plant> {
 protected:
  void SetUp() override {
    HostileNeighbour::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    create_lock_dir();
    std::string path = lock_path(0);
    std::vector<std::string> plant;
    switch (GetParam()) {
      case Plant::private_file: plant = {"sh", "-c", "touch \"$0\" && chmod 0600 \"$0\"", path}; break;
      case Plant::symlink: plant = {"ln", "-s", "/etc/passwd", path}; break;
      case Plant::directory: plant = {"mkdir", path}; break;
      case Plant::fifo: plant = {"mkfifo", "-m", "0666", path}; break;
    }
    auto planted = run_as(mallory(), plant);
    ASSERT_EQ(planted.exit_code, 0) << describe(planted);
  }
};

TEST_P(PlantedAtALockPath, EveryLaunchRunsOnTheOtherGpu) {
  auto launch = run_as(alice(), plus({"with-gpu", "--"}, kProbe), 5s);
  EXPECT_EQ(launch.exit_code, 0) << describe(launch);
  EXPECT_EQ(launch.out, "1|PCI_BUS_ID\n") << describe(launch);
}

TEST_P(PlantedAtALockPath, DryRunRejectsThatGpuNamingTheOwner) {
  auto dry = run_as(alice(), plus({"with-gpu", "--dry-run", "--"}, kProbe), 5s);
  EXPECT_EQ(dry.exit_code, 0) << describe(dry);
  EXPECT_TRUE(contains(dry.out, "would run:")) << dry.out;
  std::string verdict = line_starting(dry.out, "  GPU 0:");
  EXPECT_TRUE(contains(verdict, "rejected") && contains(verdict, "wg-mallory")) << dry.out;
}

TEST_P(PlantedAtALockPath, StatusNamesTheOwner) {
  auto status = run_as(alice(), {"with-gpu", "--status"}, 5s);
  EXPECT_EQ(status.exit_code, 0) << describe(status);
  EXPECT_TRUE(contains(status.out, "wg-mallory")) << status.out;
}

TEST_P(PlantedAtALockPath, AskingForThatGpuExits4NamingTheOwner) {
  auto manual = run_as(alice(), plus({"with-gpu", "--gpu", "0", "--"}, kProbe), 5s);
  EXPECT_EQ(manual.exit_code, 4) << describe(manual);
  EXPECT_EQ(manual.out, "");
  EXPECT_TRUE(contains(manual.err, "wg-mallory")) << manual.err;
}

INSTANTIATE_TEST_SUITE_P(ByWgMallory, PlantedAtALockPath,
                         ::testing::Values(Plant::private_file, Plant::symlink, Plant::directory, Plant::fifo),
                         [](const ::testing::TestParamInfo<Plant>& tested) { return plant_name(tested.param); });

TEST_F(HostileNeighbour, ADryRunDoesNotSayWouldRunWhenTheLockDirIsUnusable) {
  auto planted = run_as(mallory(), {"touch", lock_dir});  // a regular file where the directory goes
  ASSERT_EQ(planted.exit_code, 0) << describe(planted);
  auto dry = run_as(alice(), plus({"with-gpu", "--dry-run", "--"}, kProbe), 5s);
  EXPECT_NE(dry.exit_code, 0) << describe(dry);
  EXPECT_FALSE(contains(dry.out, "would run:")) << dry.out;
  auto launch = run_as(alice(), plus({"with-gpu", "--"}, kProbe), 5s);
  EXPECT_EQ(launch.exit_code, 5) << describe(launch);
}

// 7. Another user's lock directory -------------------------------------------------------

TEST_F(HostileNeighbour, ALockDirOwnedByAnotherUserNamesTheOwnerAndTheWayOut) {
  auto made = run_as(mallory(), {"mkdir", "-m", "0755", lock_dir});
  ASSERT_EQ(made.exit_code, 0) << describe(made);
  auto launch = run_as(alice(), plus({"with-gpu", "--"}, kProbe), 5s);
  EXPECT_EQ(launch.exit_code, 5) << describe(launch);
  EXPECT_EQ(launch.out, "");
  EXPECT_TRUE(contains(launch.err, "wg-mallory")) << launch.err;
  EXPECT_TRUE(contains(launch.err, "--lock-dir")) << launch.err;
  EXPECT_TRUE(contains(launch.err, "--init-lock-dir")) << launch.err;
}

// 8. The holder named truthfully ------------------------------------------------------------

class ForeignLock : public HostileNeighbour {
 protected:
  void SetUp() override {
    HostileNeighbour::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Her with-gpu run leaves its pid in the file (the file is hers: under
    // fs.protected_regular her flock(1) could not open wg-alice's with O_CREAT).
    auto run = run_as(mallory(), {"with-gpu", "--quiet", "--gpu", "0", "--", "true"});
    ASSERT_EQ(run.exit_code, 0) << describe(run);
  }

  pid_t holder_pid() const {
    std::string text;
    eventually([&] { return !(text = read_file(in_world("holder.pid"))).empty(); }, 10s);
    return text.empty() ? -1 : std::stoi(text);
  }
};

TEST_F(ForeignLock, AFlockHolderIsNamedByItsPidAndUser) {
  // flock(1) holds the lock and waits for its command, which inherits the descriptor.
  auto locker = start_as(mallory(), {"flock", lock_path(0), "sh", "-c",
                                     "echo $$ > " + in_world("holder.pid") + "; exec sleep 60"},
                         "flock");
  pid_t sleeper = holder_pid();
  ASSERT_GT(sleeper, 0) << read_file(in_world("flock.err"));
  json claims = wait_for_claims(0);
  ASSERT_EQ(claims.size(), 1u) << claims.dump();
  int pid = claims[0]["pid"].get<int>();
  EXPECT_TRUE(pid == locker->pid() || pid == sleeper)
      << "status names pid " << pid << "; flock(1) is " << locker->pid() << ", its command " << sleeper;
  EXPECT_EQ(claims[0]["user"], "wg-mallory") << claims.dump();
  auto refused = run_as(alice(), {"with-gpu", "--gpu", "0", "--", "true"}, 5s);
  EXPECT_EQ(refused.exit_code, 4) << describe(refused);
  EXPECT_TRUE(contains(refused.err, "wg-mallory")) << refused.err;
  EXPECT_FALSE(contains(refused.err, "pid 0 ") || contains(refused.err, "pid 0\n")) << refused.err;
}

TEST_F(ForeignLock, ADaemonizedHolderIsNamedThoughTheLockerExited) {
  // /proc/locks keeps naming flock(1), which has exited; the lock lives on in the
  // backgrounded command. Only root can look into another user's descriptors to find
  // it: wg-alice is told no pid rather than a wrong one.
  auto locker = start_as(mallory(), {"flock", lock_path(0), "sh", "-c",
                                     "sleep 60 </dev/null >/dev/null 2>&1 & echo $! > " + in_world("holder.pid")},
                         "flock");
  ASSERT_EQ(locker->wait_for(10s), 0) << read_file(in_world("flock.err"));
  pid_t sleeper = holder_pid();
  ASSERT_GT(sleeper, 0);
  json claims = wait_for_claims(0);
  ASSERT_EQ(claims.size(), 1u) << claims.dump();
  EXPECT_EQ(claims[0]["pid"], sleeper) << claims.dump();
  EXPECT_EQ(claims[0]["user"], "wg-mallory") << claims.dump();
  auto refused = run_as(alice(), {"with-gpu", "--gpu", "0", "--", "true"}, 5s);
  EXPECT_EQ(refused.exit_code, 4) << describe(refused);
  int locker_pid = locker->pid();
  EXPECT_FALSE(contains(refused.err, "pid 0 ") || contains(refused.err, "pid 0\n") ||
               contains(refused.err, "pid " + std::to_string(locker_pid) + " ") ||
               contains(refused.err, "pid " + std::to_string(locker_pid) + "\n"))
      << "names a pid that holds nothing (flock(1) is " << locker_pid << ")\n" << refused.err;
}

// A holder in another PID namespace (another container sharing the lock directory, as
// the README suggests) is not in this namespace's /proc/locks at all.
TEST_F(ForeignLock, AHolderInAnotherPidNamespaceIsNeverPidZero) {
  auto probe_namespace = run_as(kRoot, {"unshare", "--pid", "--fork", "--mount-proc", "true"}, 10s);
  if (probe_namespace.exit_code != 0) {
    GTEST_SKIP() << "cannot make a PID namespace here (unshare --pid: " << describe(probe_namespace) << ")";
  }
  auto holder = start_as(mallory(), {"with-gpu", "--gpu", "0", "--", "sleep", "30"}, "holder");
  ASSERT_FALSE(wait_for_claims(0, "sleep 30").empty());
  auto in_container = [&](const std::vector<std::string>& args) {
    auto as_alice = alice().command(plus({suite().with_gpu}, args));
    return run_as(kRoot, plus({"unshare", "--pid", "--fork", "--mount-proc"}, as_alice), 5s);
  };
  auto refused = in_container({"--gpu", "0", "--", "true"});
  EXPECT_EQ(refused.exit_code, 4) << describe(refused);
  EXPECT_FALSE(contains(refused.err, "pid 0 ") || contains(refused.err, "pid 0\n")) << refused.err;
  // /proc/locks in there hides the holder; a probing flock (taken and let go at once)
  // still shows the GPU claimed, by a process with-gpu cannot see.
  auto status = in_container({"--status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << describe(status);
  json claims = json::parse(status.out)["gpus"][0]["claims"];
  ASSERT_EQ(claims.size(), 1u) << claims.dump();
  EXPECT_TRUE(claims[0]["pid"].is_null()) << claims.dump();
  EXPECT_EQ(claims[0]["mode"], "exclusive") << claims.dump();
  EXPECT_TRUE(contains(refused.err, "GPU 0: claimed by a process with-gpu cannot see")) << refused.err;
}

// 9. Symlink races on the lock directory ----------------------------------------------------

// wg-mallory, as fast as she can: whenever the lock directory is an empty directory
// (root's, just made), replace it by a symlink to `target`.
class SymlinkSwapper {
 public:
  SymlinkSwapper(const Neighbour& who, const std::string& dir, const std::string& target) {
    pid_ = fork();
    if (pid_ == 0) {
      if (!who.become()) _exit(1);
      for (;;) {
        [[maybe_unused]] int linked = rmdir(dir.c_str()) == 0 ? symlink(target.c_str(), dir.c_str()) : 0;
      }
    }
  }
  SymlinkSwapper(const SymlinkSwapper&) = delete;
  SymlinkSwapper& operator=(const SymlinkSwapper&) = delete;
  ~SymlinkSwapper() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_ = -1;
};

// Root makes the lock directory in a parent wg-mallory owns; she can replace what root
// made with a symlink to a root-only directory.
class SwappedLockDir : public HostileNeighbour {
 protected:
  void SetUp() override {
    HostileNeighbour::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto made = run_as(mallory(), {"mkdir", "-m", "0755", parent});
    ASSERT_EQ(made.exit_code, 0) << describe(made);
    ASSERT_EQ(mkdir(target.c_str(), 0700), 0);
    chmod(target.c_str(), 0700);
  }

  void expect_target_untouched(const std::string& after) const {
    EXPECT_EQ(mode_of(target), "700") << "root's directory changed mode " << after;
    std::error_code ignored;
    EXPECT_TRUE(fs::is_empty(target, ignored)) << "root created files through wg-mallory's symlink " << after;
  }

  std::string parent = in_world("mallory-parent");
  std::string dir = parent + "/locks";
  std::string target = in_world("root-only");
};

// Deterministic: root's launch is paused after its mkdir, before it changes the
// directory's mode (by path or by descriptor).
TEST_F(SwappedLockDir, RootChangesNoModeThroughASymlinkSwappedInAfterItsMkdir) {
  std::string pause = in_world("pause");
  Env paused = paused_at(pause, "chmod", dir);
  paused["WITH_GPU_LOCK_DIR"] = dir;
  auto launch = start_as(kRoot, {"with-gpu", "--quiet", "--gpu", "0", "--", "true"}, "root", paused);
  ASSERT_TRUE(eventually([&] { return exists(pause + ".paused") || !launch->running(); }, 10s));
  if (exists(pause + ".paused")) {
    auto swapped = shell_as(mallory(), "rmdir '" + dir + "' && ln -s '" + target + "' '" + dir + "'");
    EXPECT_EQ(swapped.exit_code, 0) << describe(swapped);
    std::ofstream(pause + ".go") << "go\n";
  }
  EXPECT_TRUE(launch->wait_for(10s).has_value()) << "root's launch hung";
  expect_target_untouched("when the lock directory was swapped between root's mkdir and its chmod");
}

// The race as an attacker runs it, without help (it needs luck: the window is a
// syscall wide, so this may pass on old code where the deterministic test above fails).
TEST_F(SwappedLockDir, RootNeverChangesTheModeOfADirectorySwappedInWhileItLaunches) {
  int launches = 0;
  {
    SymlinkSwapper swapper(mallory(), dir, target);
    while (launches < 50 && mode_of(target) == "700") {
      ++launches;
      run_as(kRoot, {"with-gpu", "--quiet", "--gpu", "0", "--", "true"}, 10s, {{"WITH_GPU_LOCK_DIR", dir}});
      std::error_code ignored;
      fs::remove_all(dir, ignored);  // a fresh start for the next launch (a link is removed, not followed)
    }
  }
  expect_target_untouched("after " + std::to_string(launches) + " launches");
}

TEST_F(HostileNeighbour, ALockDirWithATrailingSlashDoesNotFollowASymlink) {
  std::string real = in_world("alice-locks");
  std::string link = in_world("link");
  auto made = shell_as(alice(), "mkdir -m 1777 '" + real + "' && ln -s '" + real + "' '" + link + "'");
  ASSERT_EQ(made.exit_code, 0) << describe(made);
  auto launch = run_as(alice(), plus({"with-gpu", "--lock-dir", link + "/", "--"}, kProbe), 5s);
  EXPECT_EQ(launch.exit_code, 5) << describe(launch);
  EXPECT_EQ(launch.out, "") << describe(launch);
  std::error_code ignored;
  EXPECT_TRUE(fs::is_empty(real, ignored)) << "a lock file was made through the link";
}

// 15. Descriptors ---------------------------------------------------------------------------

TEST_F(HostileNeighbour, FourClaimedGpusLeaveTheCommandRoomUnderEightDescriptors) {
#ifdef WITH_GPU_SANITIZED
  // UBSan's vptr check opens /proc/self/maps when it looks at an object: with every
  // descriptor in use it reports a false "invalid vptr". The plain build runs this test.
  GTEST_SKIP() << "the sanitizer runtime needs descriptors of its own under ulimit -n 8";
#endif
  publish_machine(machine_of({gpu(0), gpu(1), gpu(2), gpu(3)}));
  auto launch = shell_as(alice(), "ulimit -n 8; exec \"$WG_BIN\" --quiet --min-gpus 4 -- sh -c \"$PROBE\"");
  EXPECT_EQ(launch.exit_code, 0) << describe(launch);
  EXPECT_EQ(launch.out, "0,1,2,3|PCI_BUS_ID\n") << describe(launch);
}

// 4. The hardened directory --------------------------------------------------------------

class Hardened : public HostileNeighbour {
 protected:
  void SetUp() override {
    HostileNeighbour::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto made = run_as(kRoot, {"with-gpu", "--init-lock-dir", lock_dir});
    ASSERT_EQ(made.exit_code, 0) << describe(made);
    EXPECT_EQ(made.out, "with-gpu: lock directory " + lock_dir +
                            " is ready: owned by root, mode 0755, 2 lock files (root's, mode 0666); users can claim "
                            "GPUs but cannot delete, replace or plant files; queue/ (mode 1777) holds the waiting line\n");
  }
};

TEST_F(Hardened, AUserCannotDeleteOrReplaceALockFile) {
  auto holder = start_as(alice(), {"with-gpu", "--gpu", "0", "--", "sleep", "30"}, "holder");
  ASSERT_FALSE(wait_for_claims(0, "sleep 30").empty());
  auto removed = shell_as(mallory(), "rm -f " + lock_path(0) + " || exit 1; exit 0");
  EXPECT_NE(removed.exit_code, 0) << "mallory deleted a lock file of the hardened directory";
  auto replaced = shell_as(mallory(), "mv " + lock_path(1) + " " + in_world("stolen") + " || exit 1; exit 0");
  EXPECT_NE(replaced.exit_code, 0) << "mallory moved a lock file out of the hardened directory";
  auto planted = shell_as(mallory(), "mkfifo " + lock_dir + "/gpu-planted.lock || exit 1; exit 0");
  EXPECT_NE(planted.exit_code, 0) << "mallory planted a file in the hardened directory";
  EXPECT_TRUE(exists(lock_path(0)));
  auto refused = run_as(mallory(), plus({"with-gpu", "--gpu", "0", "--"}, kProbe), 5s);
  EXPECT_EQ(refused.exit_code, 4) << describe(refused);
  auto other = run_as(mallory(), plus({"with-gpu", "--"}, kProbe), 5s);
  EXPECT_EQ(other.exit_code, 0) << describe(other);
  EXPECT_EQ(other.out, "1|PCI_BUS_ID\n");
}

TEST_F(Hardened, UsersQueueThereAndCannotRemoveAnotherUsersTicket) {
  auto holder = start_as(alice(), {"with-gpu", "--gpu", "0,1", "--", "sleep", "30"}, "holder");
  ASSERT_FALSE(wait_for_claims(1, "sleep 30").empty());
  auto waiter = start_as(alice(), {"with-gpu", "--wait", "--", "true"}, "waiter");
  std::string queue = lock_dir + "/queue";
  ASSERT_TRUE(eventually([&] { return !shell_as(alice(), "ls " + queue).out.empty(); }, 5s))
      << read_file(in_world("waiter.err"));
  auto removed = shell_as(mallory(), "rm -f " + queue + "/t-* || exit 1; ls " + queue + " | grep -q . || exit 0; exit 1");
  EXPECT_NE(removed.exit_code, 0) << "mallory removed wg-alice's ticket";
  auto jumped = run_as(mallory(), plus({"with-gpu", "--"}, kProbe), 5s);
  EXPECT_EQ(jumped.exit_code, 4) << describe(jumped);
  EXPECT_TRUE(contains(jumped.err, "), 1st in line")) << jumped.err;
}

TEST_F(Hardened, AGpuWithoutALockFileIsUnavailableUntilRootMakesOne) {
  publish_machine(machine_of({gpu(0), gpu(1), gpu(2)}));  // GPU 2 came after --init-lock-dir
  auto launch = run_as(alice(), plus({"with-gpu", "--gpu", "2", "--"}, kProbe), 5s);
  EXPECT_EQ(launch.exit_code, 4) << describe(launch);
  std::string path = lock_dir + "/gpu-" + gpu(2)["uuid"].get<std::string>().substr(4) + ".lock";
  EXPECT_TRUE(contains(launch.err, "  GPU 2: no lock file " + path +
                                       " in the hardened lock directory (owner root); ask root to run "
                                       "`with-gpu --init-lock-dir` again (it makes one for every GPU)\n"))
      << launch.err;
  EXPECT_FALSE(exists(path));
  auto remade = run_as(kRoot, {"with-gpu", "--init-lock-dir", lock_dir});
  ASSERT_EQ(remade.exit_code, 0) << describe(remade);
  auto after = run_as(alice(), plus({"with-gpu", "--gpu", "2", "--"}, kProbe), 5s);
  EXPECT_EQ(after.exit_code, 0) << describe(after);
}

TEST_F(Hardened, StatusSaysTheDirectoryIsHardened) {
  auto status = run_as(alice(), {"with-gpu", "--status"}, 5s);
  ASSERT_EQ(status.exit_code, 0) << describe(status);
  EXPECT_TRUE(contains(status.out, "claims: " + lock_dir + " (hardened: root's, users cannot delete or plant lock files)\n"))
      << status.out;
  auto json_status = run_as(alice(), {"with-gpu", "--status", "--json"}, 5s);
  json place = json::parse(json_status.out)["lock_dir"];
  EXPECT_EQ(place["path"], lock_dir);
  EXPECT_EQ(place["hardened"], true);
  EXPECT_TRUE(place["problem"].is_null());
}

TEST_F(HostileNeighbour, StatusSaysASharedDirectoryIsNotHardened) {
  create_lock_dir();
  auto status = run_as(alice(), {"with-gpu", "--status"}, 5s);
  EXPECT_TRUE(contains(status.out, "claims: " + lock_dir +
                                       " (shared, like /tmp: whoever creates a lock file can delete it; see "
                                       "--init-lock-dir)\n"))
      << status.out;
}

TEST_F(HostileNeighbour, OnlyRootMayInitTheLockDirectory) {
  auto refused = run_as(alice(), {"with-gpu", "--init-lock-dir", lock_dir});
  EXPECT_EQ(refused.exit_code, 5) << describe(refused);
  EXPECT_EQ(refused.err, "with-gpu: error: --init-lock-dir makes a directory that only root can change: run it as "
                         "root (sudo with-gpu --init-lock-dir)\n");
  EXPECT_FALSE(exists(lock_dir));
}

// Another user's command line is input too ---------------------------------------------------

TEST_F(HostileNeighbour, AHoldersCommandLineCannotBreakJsonOrTheTerminal) {
  std::string nasty = "x\xff\x1b[2J\nGPU 7: free";
  auto holder = start_as(mallory(), {"with-gpu", "--gpu", "0", "--", "sh", "-c", "sleep 30", nasty}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  eventually([&] { return contains(with_gpu({"--status"}).out, "sleep 30"); }, 5s);
  auto status = run_as(alice(), {"with-gpu", "--status", "--json"}, 5s);
  ASSERT_EQ(status.exit_code, 0) << describe(status);
  json claims = json::parse(status.out)["gpus"][0]["claims"];
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0]["command"], "sh -c sleep 30 x\\xff\\x1b[2J\\x0aGPU 7: free") << claims.dump();
  auto table = run_as(alice(), {"with-gpu", "--status"}, 5s);
  EXPECT_FALSE(contains(table.out, "\x1b[2J")) << table.out;
  EXPECT_FALSE(contains(table.out, "\nGPU 7: free")) << table.out;
  auto dry = run_as(alice(), plus({"with-gpu", "--dry-run", "--json", "--gpu", "0", "--"}, kProbe), 5s);
  EXPECT_EQ(dry.exit_code, 4) << describe(dry);
  EXPECT_TRUE(json::accept(dry.out)) << dry.out;
}

}  // namespace
}  // namespace wg::test
