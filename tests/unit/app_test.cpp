#include "cli/app.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <map>
#include <sstream>

#include "support/machine_builder.hpp"
#include "support/mig_builder.hpp"
#include "support/temp_dir.hpp"

namespace wg {
namespace {

using namespace std::chrono_literals;
using test::GpuBuilder;
using test::machine_of;

// Serves a list of machines, one per query; the last one repeats.
class FakeGpuSource : public GpuSource {
 public:
  FakeGpuSource(std::vector<Machine>* machines, int* queries, std::vector<TopologyDetail>* details,
                std::vector<std::vector<unsigned>>* link_reads)
      : machines_(machines), queries_(queries), details_(details), link_reads_(link_reads) {}
  void read_links(Machine& machine, const std::vector<unsigned>& among) override {
    link_reads_->push_back(among);
    machine.links.assign(machine.gpus.size(), std::vector<GpuLink>(machine.gpus.size()));
  }
  Result<Machine> query(TopologyDetail detail) override {
    details_->push_back(detail);
    auto index = std::min<std::size_t>(static_cast<std::size_t>((*queries_)++), machines_->size() - 1);
    return (*machines_)[index];
  }

 private:
  std::vector<Machine>* machines_;
  int* queries_;
  std::vector<TopologyDetail>* details_;
  std::vector<std::vector<unsigned>>* link_reads_;
};

struct FakeHeld : HeldClaims {
  explicit FakeHeld(bool* kept) : kept_(kept) {}
  void keep_across_exec() override { *kept_ = true; }
  std::string descriptors() const override { return "7"; }
  bool* kept_;
};

// Claims in memory; `refuse_once` makes the first claim of that GPU lose a race.
class FakeClaimStore : public ClaimStore {
 public:
  Result<Ok> prepare() override { return Ok{}; }
  void read_holders(Machine& machine) override {
    for (auto& gpu : machine.gpus) {
      if (held.count(gpu.uuid)) gpu.claims = {{held[gpu.uuid], ClaimMode::exclusive, {}, {}}};
      if (holders.count(gpu.uuid)) gpu.claims = {holders[gpu.uuid]};
    }
  }
  Result<ClaimAttempt> claim(const std::vector<const Gpu*>& gpus, ClaimMode) override {
    ++attempts;
    for (const Gpu* gpu : gpus) {
      if (unusable_file && *unusable_file == gpu->index) {
        return ClaimAttempt{nullptr, std::nullopt, gpu->index,
                            LockProblem{LockFileProblem::not_regular, "/locks/gpu-x.lock", FileType::fifo, "mallory"}};
      }
      if (refuse_once && *refuse_once == gpu->index) {
        refuse_once.reset();
        held[gpu->uuid] = 777;
        return ClaimAttempt{nullptr, gpu->index};
      }
    }
    for (const Gpu* gpu : gpus) held[gpu->uuid] = 1;
    return ClaimAttempt{std::make_unique<FakeHeld>(&kept), std::nullopt};
  }
  void track_claims(const Machine&) override { ++tracked; }
  bool tracks_deleted_claims() const override { return deleted_claims; }
  ClaimsPlace place() const override { return place_now; }
  std::map<std::string, int> held;
  std::map<std::string, ClaimHolder> holders;  // holders as /proc shows them: user, inherited
  std::optional<unsigned> refuse_once;
  std::optional<unsigned> unusable_file;  // this GPU's lock file is a FIFO
  int tracked = 0;
  bool deleted_claims = false;
  ClaimsPlace place_now{"/locks"};
  int attempts = 0;
  bool kept = false;
};

class FakeClock : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return time; }
  std::chrono::steady_clock::time_point time{};
};

// The --watch screen on the fake clock: keeps the frames, sleeps until each deadline, and
// quits after `frames_before_quit` frames (the user pressing q).
class FakeScreen : public LiveScreen {
 public:
  FakeScreen(FakeClock* clock, std::vector<std::string>* frames, std::vector<std::chrono::milliseconds>* sleeps,
             int frames_before_quit)
      : clock_(clock), frames_(frames), sleeps_(sleeps), left_(frames_before_quit) {}
  void show(const std::string& frame) override { frames_->push_back(frame); }
  LiveEvent wait_until(std::chrono::steady_clock::time_point deadline) override {
    if (--left_ <= 0) return LiveEvent::quit;
    sleeps_->push_back(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_->time));
    clock_->time = deadline;
    return LiveEvent::tick;
  }

 private:
  FakeClock* clock_;
  std::vector<std::string>* frames_;
  std::vector<std::chrono::milliseconds>* sleeps_;
  int left_;
};

// Sleeps on the fake clock. Scripted events (claims changed, a signal) end a wait early
// at the time they are scheduled for; the length of every wait is recorded.
class FakeWatch : public ChangeWatch {
 public:
  struct Scripted {
    std::chrono::milliseconds at;  // since the start of the run
    WakeEvent event;
  };
  FakeWatch(FakeClock* clock, std::vector<Scripted>* script, std::vector<std::chrono::milliseconds>* waits,
            int* calls_before_hang = nullptr)
      : clock_(clock), script_(script), waits_(waits), calls_before_hang_(calls_before_hang) {}
  // Driver calls return at once until `calls_before_hang` have; the next one hangs: the
  // clock runs to the deadline, or to a scripted signal before it, and the call is dropped.
  WakeEvent run_until(std::function<void()> work, std::chrono::steady_clock::time_point deadline) override {
    if (!calls_before_hang_ || (*calls_before_hang_)-- > 0) return ChangeWatch::run_until(std::move(work), deadline);
    if (!script_->empty() && std::chrono::steady_clock::time_point{} + script_->front().at < deadline) {
      clock_->time = std::max(clock_->time, std::chrono::steady_clock::time_point{} + script_->front().at);
      WakeEvent event = script_->front().event;
      script_->erase(script_->begin());
      return event;
    }
    clock_->time = deadline;
    return {Wake::deadline, 0};
  }
  WakeEvent wait_until(std::chrono::steady_clock::time_point deadline) override {
    auto start = clock_->time;
    WakeEvent result{Wake::deadline, 0};
    if (!script_->empty() && std::chrono::steady_clock::time_point{} + script_->front().at < deadline) {
      deadline = std::max(start, std::chrono::steady_clock::time_point{} + script_->front().at);
      result = script_->front().event;
      script_->erase(script_->begin());
    }
    clock_->time = deadline;
    waits_->push_back(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - start));
    return result;
  }

 private:
  FakeClock* clock_;
  std::vector<Scripted>* script_;
  std::vector<std::chrono::milliseconds>* waits_;
  int* calls_before_hang_;
};

// What resolving a missing command answers.
Error not_found(const std::string& command) {
  return Error{ErrorKind::command_not_found, "command not found: " + command + " (check the name and PATH)", {}};
}

class FakeLauncher : public Launcher {
 public:
  Error exec(const std::vector<std::string>& argv, const EnvChanges& changes) override {
    launched = argv;
    for (const auto& [name, value] : changes) env[name] = value;
    return result;
  }
  // Finds every command in /usr/bin unless the test names a problem for it.
  Result<std::string> resolve(const std::string& command) const override {
    resolved.push_back(command);
    auto problem = problems.find(command);
    if (problem != problems.end()) return problem->second;
    return "/usr/bin/" + command;
  }
  std::vector<std::string> launched;
  std::map<std::string, std::string> env;
  Error result{ErrorKind::internal, "fake exec returned", {}};
  std::map<std::string, Error> problems;      // command -> what resolving it answers
  mutable std::vector<std::string> resolved;  // every command looked up, in order
};

class AppTest : public ::testing::Test {
 protected:
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "with-gpu");
    Services services{[this](const std::string&, std::chrono::milliseconds) -> Result<std::unique_ptr<GpuSource>> {
                        if (nvml_error) return *nvml_error;
                        return std::unique_ptr<GpuSource>(new FakeGpuSource(&machines, &queries, &details, &link_reads));
                      },
                      [this](const std::string&) { return std::unique_ptr<ClaimStore>(new ForwardingStore(&claims)); },
                      [this](const std::string&) {
                        return std::unique_ptr<ChangeWatch>(new FakeWatch(&clock, &script, &waits, &calls_before_hang));
                      },
                      &clock, &launcher};
    services.pin_cpus = [this](const CpuSet& cpus) -> Result<Ok> {
      events.push_back("pin " + cpus.to_string());
      return Ok{};
    };
    services.exit_now = [this](int status) { exited_with = status; };
    services.open_screen = [this](std::ostream&) {
      ++screens_opened;
      return std::unique_ptr<LiveScreen>(new FakeScreen(&clock, &frames, &frame_sleeps, frames_before_quit));
    };
    services.check_device_access = [this](Machine& machine) {
      ++device_checks;
      for (unsigned index : refused_nodes) {
        machine.gpus.at(index).minor_number = index;
        machine.gpus.at(index).access = DeviceAccess::denied_by_device_node;
      }
    };
    services.prefer_memory = [this](const std::vector<int>& nodes) -> Result<std::vector<int>> {
      events.push_back("prefer " + std::to_string(nodes.size()) + " node(s)");
      if (numa_error) return *numa_error;
      return nodes;
    };
    return run_app(args, env, services, out, err);
  }

  // Lets the test keep the store that the flow owns.
  struct ForwardingStore : ClaimStore {
    explicit ForwardingStore(FakeClaimStore* target) : target_(target) {}
    Result<Ok> prepare() override { return Ok{}; }
    void read_holders(Machine& machine) override { target_->read_holders(machine); }
    Result<ClaimAttempt> claim(const std::vector<const Gpu*>& gpus, ClaimMode mode) override {
      return target_->claim(gpus, mode);
    }
    void track_claims(const Machine& machine) override { target_->track_claims(machine); }
    bool tracks_deleted_claims() const override { return target_->tracks_deleted_claims(); }
    ClaimsPlace place() const override { return target_->place(); }
    FakeClaimStore* target_;
  };

  std::vector<Machine> machines{machine_of({GpuBuilder(0).free_mib(10000), GpuBuilder(1).free_mib(30000),
                                            GpuBuilder(2).free_mib(20000)})};
  Machine busy = machine_of({GpuBuilder(0).free_mib(100), GpuBuilder(1).claimed_by(4242)});
  int queries = 0;
  int screens_opened = 0;
  int frames_before_quit = 3;
  std::vector<std::string> frames;                      // --watch: what was drawn
  std::vector<std::chrono::milliseconds> frame_sleeps;  // --watch: the waits between frames
  std::vector<TopologyDetail> details;  // what each query asked for
  std::vector<std::vector<unsigned>> link_reads;  // the GPUs each read of links was about
  std::vector<std::string> events;      // pinning and memory policy, in order
  std::optional<Error> nvml_error;
  std::optional<Error> numa_error;  // what the fake libnuma answers
  FakeClaimStore claims;
  FakeClock clock;
  std::vector<FakeWatch::Scripted> script;
  std::vector<std::chrono::milliseconds> waits;
  int calls_before_hang = 1'000'000;  // driver calls while waiting that return before one hangs
  std::optional<int> exited_with;      // the status exit_now was asked for
  std::vector<unsigned> refused_nodes;  // GPUs whose device node the fake check finds refusing
  int device_checks = 0;
  FakeLauncher launcher;
  Environment env = [] {
    Environment hermetic;
    hermetic.system_config = "/nonexistent/with-gpu/config.toml";
    hermetic.now_ns = 1'795'000'000'000'000'000;  // 2026-11-18 11:06:40 UTC
    setenv("TZ", "UTC", 1);                          // waiting lines in logs say the local time
    tzset();
    return hermetic;
  }();
  std::ostringstream out;
  std::ostringstream err;
};

TEST_F(AppTest, LaunchesTheCommandOnTheBestGpuWithBothVariablesAndKeepsTheClaim) {
  run({"python", "train.py", "--lr", "3"});
  EXPECT_EQ(launcher.launched, std::vector<std::string>({"python", "train.py", "--lr", "3"}));
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "1");
  EXPECT_EQ(launcher.env["CUDA_DEVICE_ORDER"], "PCI_BUS_ID");
  EXPECT_EQ(claims.held.count(machines[0].gpus[1].uuid), 1u);
  EXPECT_TRUE(claims.kept);
  EXPECT_NE(err.str().find("with-gpu: using GPU 1 (NVIDIA A100-SXM4-40GB, 29.3 GiB free); CUDA_VISIBLE_DEVICES=1"),
            std::string::npos);
  EXPECT_TRUE(out.str().empty());
}

TEST_F(AppTest, TheCommandLearnsWhichDescriptorsHoldItsClaims) {
  run({"true"});
  EXPECT_EQ(launcher.env["WITH_GPU_CLAIMS"], "7");
}

TEST_F(AppTest, AnUnusableLockFileRulesOutItsGpuAndTheNextOneRuns) {
  claims.unusable_file = 1;  // the best GPU's lock file is a FIFO
  run({"true"});
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "2");
}

TEST_F(AppTest, WhenEveryLockFileIsUnusableTheReasonNamesTheFileAndItsOwner) {
  machines = {machine_of({GpuBuilder(0).free_mib(10000)})};
  claims.unusable_file = 0;
  EXPECT_EQ(run({"true"}), 4);
  EXPECT_NE(err.str().find("  GPU 0: lock file /locks/gpu-x.lock is a FIFO owned by mallory, not a regular file; ask "
                           "mallory or root to remove it, or use another --lock-dir\n"),
            std::string::npos)
      << err.str();
}

TEST_F(AppTest, ADryRunDoesNotSayWouldRunWhenTheLockDirectoryCannotBeUsed) {
  claims.place_now.problem = "lock directory /locks is not a directory; remove it or choose another with --lock-dir";
  EXPECT_EQ(run({"--dry-run", "true"}), 5);
  EXPECT_EQ(out.str().rfind("would not run: lock directory /locks is not a directory; remove it or choose another "
                            "with --lock-dir\n", 0), 0u)
      << out.str();
}

TEST_F(AppTest, AWaiterTracksClaimsAndLooksAgainSoonWhenOneIsHeldThroughADeletedFile) {
  machines = {busy};
  claims.deleted_claims = true;
  EXPECT_EQ(run({"--wait", "--timeout", "1s", "true"}), 124);
  EXPECT_GT(claims.tracked, 0);
  for (auto wait : waits) EXPECT_LE(wait, std::chrono::milliseconds(250));
}

TEST_F(AppTest, QuietSilencesTheSummary) {
  run({"--quiet", "true"});
  EXPECT_FALSE(launcher.launched.empty());
  EXPECT_TRUE(err.str().find("using GPU") == std::string::npos);
}

TEST_F(AppTest, MapsExecFailuresToTheirExitCodes) {
  launcher.result = Error{ErrorKind::command_not_found, "command not found: nope (check the name and PATH)", {}};
  EXPECT_EQ(run({"nope"}), 127);
  EXPECT_NE(err.str().find("with-gpu: error: command not found: nope (check the name and PATH)\n"), std::string::npos);
  launcher.result = Error{ErrorKind::command_not_executable, "cannot execute x", {}};
  EXPECT_EQ(run({"x"}), 126);
}

TEST_F(AppTest, ExitsFourListingEveryRejectedGpuWhenNothingFits) {
  machines = {busy};
  EXPECT_EQ(run({"true"}), 4);
  EXPECT_EQ(err.str(),
            "with-gpu: error: no suitable GPU: need 1, 0 eligible\n"
            "  GPU 0: 100 MiB free < 2.0 GiB\n"
            "  GPU 1: claimed by pid 4242\n"
            "hint: run `with-gpu --status` to see every GPU\n");
  EXPECT_TRUE(launcher.launched.empty());
  EXPECT_EQ(claims.attempts, 0);
}

TEST_F(AppTest, WaitTimesOutWith124AfterPollingEveryInterval) {
  machines = {busy};
  EXPECT_EQ(run({"--wait", "--timeout", "12s", "true"}), 124);
  EXPECT_EQ(waits, std::vector<std::chrono::milliseconds>({5s, 5s, 2s}));
  EXPECT_EQ(queries, 4);
  EXPECT_NE(err.str().find("with-gpu: error: timed out after 12s waiting: no suitable GPU: need 1, 0 eligible\n"),
            std::string::npos);
  EXPECT_TRUE(launcher.launched.empty());
}

TEST_F(AppTest, WaitProgressIsPrintedOnlyWhenTheBlockersChangeOffATerminal) {
  Machine other_holder = machine_of({GpuBuilder(0).free_mib(100), GpuBuilder(1).claimed_by(5151)});
  machines = {busy, busy, busy, other_holder};
  run({"--wait", "--timeout", "20s", "true"});
  EXPECT_EQ(err.str().rfind(
                "with-gpu: waiting 0s at 11:06:40 for 1 GPU (true): GPU0 100 MiB free < 2.0 GiB · GPU1 claimed by "
                "pid 4242\n"
                "with-gpu: waiting 15s at 11:06:55 for 1 GPU (true): GPU0 100 MiB free < 2.0 GiB · GPU1 claimed by "
                "pid 5151\n"
                "with-gpu: error: timed out after 20s",
                0),
            0u)
      << err.str();
}

TEST_F(AppTest, WaitRewritesOneLineOnATerminal) {
  env.stderr_tty = true;
  machines = {busy};
  run({"--wait", "--timeout", "2s", "true"});
  EXPECT_EQ(err.str().rfind(
                "\r\033[Kwith-gpu: waiting 0s for 1 GPU (true): GPU0 100 MiB free < 2.0 GiB · GPU1 claimed by pid 4242"
                "\r\033[Kwith-gpu: waiting 1s for 1 GPU (true): GPU0 100 MiB free < 2.0 GiB · GPU1 claimed by pid 4242"
                "\n"
                "with-gpu: error: timed out after 2s",
                0),
            0u)
      << err.str();
  EXPECT_EQ(queries, 2);  // the refresh does not re-read the driver
}

// Cut to the terminal's width (one column short, so it never wraps), ending in "…"; the
// job is named by its command, cut short too.
TEST_F(AppTest, TheWaitingLineFitsTheTerminalAndNamesTheJob) {
  env.stderr_tty = true;
  env.stderr_columns = 80;
  machines = {busy};
  run({"--wait", "--timeout", "1s", "python", "train.py", "--config", "experiments/very-long-name.yaml"});
  std::string first = err.str().substr(4, err.str().find_first_of("\r\n", 1) - 4);  // after "\r\033[K"
  auto columns = std::count_if(first.begin(), first.end(), [](char c) { return (c & 0xC0) != 0x80; });
  EXPECT_EQ(columns, 79) << first;
  EXPECT_EQ(first.rfind("with-gpu: waiting 0s for 1 GPU (python train.py --config experi…): GPU0 100 Mi", 0), 0u)
      << first;
  EXPECT_EQ(first.substr(first.size() - 3), "…");
}

TEST_F(AppTest, QuietWaitingPrintsNoProgress) {
  machines = {busy};
  run({"--wait", "--quiet", "--timeout", "6s", "true"});
  EXPECT_EQ(err.str().find("with-gpu: waiting"), std::string::npos);
}

TEST_F(AppTest, WaitLaunchesAsSoonAsAPollFindsAGpu) {
  Machine freed = machine_of({GpuBuilder(0).free_mib(100), GpuBuilder(1)});
  machines = {busy, busy, freed};
  run({"--wait", "--poll-interval", "250ms", "true"});
  EXPECT_EQ(waits, std::vector<std::chrono::milliseconds>({250ms, 250ms}));
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "1");
  EXPECT_NE(err.str().find("; CUDA_VISIBLE_DEVICES=1; waited 0.5s\n"), std::string::npos) << err.str();
}

TEST_F(AppTest, TheStartLineSaysHowLongItWaitedOnlyWhenItDid) {
  run({"--wait", "true"});
  EXPECT_EQ(err.str().find("waited"), std::string::npos) << err.str();
  machines = {busy, machine_of({GpuBuilder(0).free_mib(100), GpuBuilder(1)})};
  queries = 0;
  err.str("");
  script = {{std::chrono::milliseconds(72300), {Wake::claims_changed, 0}}};
  run({"--wait", "--poll-interval", "10m", "true"});
  EXPECT_NE(err.str().find("; waited 1m12s\n"), std::string::npos) << err.str();
}

TEST_F(AppTest, AReleasedClaimWakesTheWaiterBeforeThePoll) {
  Machine freed = machine_of({GpuBuilder(0).free_mib(100), GpuBuilder(1)});
  machines = {busy, freed};
  script = {{1200ms, {Wake::claims_changed, 0}}};
  run({"--wait", "true"});
  EXPECT_EQ(waits, std::vector<std::chrono::milliseconds>({1200ms}));
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "1");
}

TEST_F(AppTest, AfterAReleaseQuickRechecksFollowWhileAReadingHoldsAGpuBack) {
  machines = {busy};  // GPU 0 lacks memory, GPU 1 is claimed
  script = {{1000ms, {Wake::claims_changed, 0}}};
  run({"--wait", "--timeout", "7s", "true"});
  EXPECT_EQ(waits, std::vector<std::chrono::milliseconds>(
                       {1000ms, 2ms, 10ms, 25ms, 50ms, 100ms, 250ms, 500ms, 5000ms, 63ms}));
}

TEST_F(AppTest, AfterAReleaseOneQuickRecheckWhenOnlyClaimsHoldGpusBack) {
  machines = {machine_of({GpuBuilder(0).claimed_by(1), GpuBuilder(1).claimed_by(2)})};
  script = {{1000ms, {Wake::claims_changed, 0}}};
  run({"--wait", "--timeout", "7s", "true"});
  EXPECT_EQ(waits, std::vector<std::chrono::milliseconds>({1000ms, 2ms, 5000ms, 998ms}));
}

TEST_F(AppTest, SignalsWhileWaitingExit130Or143AndClaimNothing) {
  machines = {busy};
  script = {{3s, {Wake::signal, SIGINT}}};
  EXPECT_EQ(run({"--wait", "--quiet", "true"}), 130);
  EXPECT_EQ(err.str(), "with-gpu: error: interrupted while waiting; nothing was claimed\n");
  EXPECT_EQ(claims.attempts, 0);
  err.str("");
  script = {{3s, {Wake::signal, SIGTERM}}};
  EXPECT_EQ(run({"--wait", "--quiet", "true"}), 143);
  EXPECT_EQ(err.str(), "with-gpu: error: terminated while waiting; nothing was claimed\n");
}

TEST_F(AppTest, ADriverCallStillRunningAtTheTimeoutEndsTheRunAt124ClaimingNothing) {
  machines = {busy};
  calls_before_hang = 0;
  EXPECT_EQ(run({"--wait", "--quiet", "--timeout", "12s", "true"}), 124);
  EXPECT_EQ(err.str(),
            "with-gpu: error: timed out after 12s waiting: the driver had not answered a query; nothing was claimed\n"
            "hint: check that `nvidia-smi` answers promptly\n");
  EXPECT_TRUE(waits.empty());
  EXPECT_EQ(exited_with, 124);  // at once: the driver is not unloaded under the hung call
  EXPECT_EQ(claims.attempts, 0);
  EXPECT_TRUE(launcher.launched.empty());
}

TEST_F(AppTest, ATimeoutDuringALaterQueryReportsTheLatestAnswer) {
  machines = {busy};
  calls_before_hang = 1;  // the first query answers, the one after the first poll hangs
  EXPECT_EQ(run({"--wait", "--quiet", "--timeout", "12s", "true"}), 124);
  EXPECT_EQ(err.str(),
            "with-gpu: error: timed out after 12s waiting: no suitable GPU: need 1, 0 eligible\n"
            "  GPU 0: 100 MiB free < 2.0 GiB\n"
            "  GPU 1: claimed by pid 4242\n"
            "the driver had not answered its latest query; these reasons are from the one before\n"
            "hint: run `with-gpu --status` to see every GPU\n");
  EXPECT_EQ(waits, std::vector<std::chrono::milliseconds>({5s}));
  EXPECT_EQ(exited_with, 124);
}

TEST_F(AppTest, ASignalDuringAHungDriverCallEndsTheRunClaimingNothing) {
  machines = {busy};
  calls_before_hang = 0;
  script = {{2s, {Wake::signal, SIGTERM}}};
  EXPECT_EQ(run({"--wait", "--quiet", "true"}), 143);
  EXPECT_EQ(err.str(), "with-gpu: error: terminated while waiting; nothing was claimed\n");
  EXPECT_EQ(exited_with, 143);
  EXPECT_EQ(claims.attempts, 0);
}

TEST_F(AppTest, ReadingLinksCanHangToo) {
  machines = {machine_of({GpuBuilder(0), GpuBuilder(1)})};
  calls_before_hang = 1;  // the query answers, reading the links hangs
  EXPECT_EQ(run({"--wait", "--quiet", "--min-gpus", "2", "--timeout", "3s", "true"}), 124);
  EXPECT_TRUE(link_reads.empty());
  EXPECT_EQ(claims.attempts, 0);
}

TEST_F(AppTest, WithoutWaitDriverCallsRunInLineAndNothingEndsTheRunEarly) {
  calls_before_hang = 0;  // would hang if a watch ran it: there is none without --wait
  run({"true"});
  EXPECT_FALSE(launcher.launched.empty());
  EXPECT_FALSE(exited_with);
}

TEST_F(AppTest, ShareAsksForASharedClaimAndAcceptsSharedGpus) {
  machines = {machine_of({GpuBuilder(0).free_mib(30000).claimed_by(77, ClaimMode::shared), GpuBuilder(1).free_mib(100)})};
  run({"--share", "true"});
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "0");
  claims.held.clear();  // the fake keeps what the first run took
  EXPECT_EQ(run({"true"}), 4);
  EXPECT_NE(err.str().find("  GPU 0: shared by pid 77\n"), std::string::npos) << err.str();
}

TEST_F(AppTest, AWaiterTakesAGpuThatWasTooHotOnlyAfterAWholeWindowBelowTheLimit) {
  Gpu hot = GpuBuilder(0);
  hot.temperature_c = 85;
  Gpu cool = GpuBuilder(0);
  cool.temperature_c = 79;
  machines = {machine_of({hot}), machine_of({cool})};
  run({"--wait", "--quiet", "--max-temp", "80", "--sample-window", "5s", "true"});
  // Seen hot at 0 s, then checked every window/5 until it has been below 80C for 5 s.
  EXPECT_EQ(waits, std::vector<std::chrono::milliseconds>({1s, 1s, 1s, 1s, 1s}));
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "0");
}

TEST_F(AppTest, ALostClaimRaceFallsBackToTheNextBestGpu) {
  claims.refuse_once = 1;
  run({"true"});
  EXPECT_EQ(claims.attempts, 2);
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "2");
}

TEST_F(AppTest, NvmlUnavailableExitsThreeAndRunsNothing) {
  nvml_error = Error{ErrorKind::nvml_unavailable, "the NVIDIA kernel driver is not loaded", {}};
  EXPECT_EQ(run({"true"}), 3);
  EXPECT_EQ(err.str(), "with-gpu: error: the NVIDIA kernel driver is not loaded\n");
  EXPECT_TRUE(launcher.launched.empty());
}

TEST_F(AppTest, AnEmptyInheritedAllocationExitsFour) {
  env.cuda_visible_devices = "";
  EXPECT_EQ(run({"true"}), 4);
  EXPECT_EQ(err.str(),
            "with-gpu: error: CUDA_VISIBLE_DEVICES='' allows no GPU; unset it to let with-gpu choose among all GPUs\n");
}

TEST_F(AppTest, TheAllocationLimitsTheChoiceAndManualGpusMustBeInsideIt) {
  env.cuda_visible_devices = "0,2";
  run({"true"});
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "2");
  EXPECT_EQ(run({"--gpu", "1", "true"}), 2);
  EXPECT_NE(err.str().find("with-gpu: error: --gpu 1 is outside CUDA_VISIBLE_DEVICES='0,2', which allows GPUs 0, 2 (--gpu takes NVML indices, as --status lists them)\n"), std::string::npos);
}

TEST_F(AppTest, DryRunShowsTheDecisionAndClaimsNothing) {
  EXPECT_EQ(run({"--dry-run", "python", "x.py"}), 0);
  EXPECT_EQ(claims.attempts, 0);
  EXPECT_TRUE(launcher.launched.empty());
  EXPECT_EQ(out.str(),
            "would run: python x.py\n"
            "on GPU 1\n"
            "  CUDA_VISIBLE_DEVICES=1\n"
            "  CUDA_DEVICE_ORDER=PCI_BUS_ID\n"
            "GPUs:\n"
            "  GPU 0: eligible, not needed (9.8 GiB free), tier: idle [util 0% now]\n"
            "  GPU 1: chosen (29.3 GiB free), tier: idle [util 0% now]\n"
            "  GPU 2: eligible, not needed (19.5 GiB free), tier: idle [util 0% now]\n");
}

TEST_F(AppTest, DryRunThatWouldNotRunExitsFour) {
  machines = {busy};
  EXPECT_EQ(run({"--dry-run", "true"}), 4);
  EXPECT_EQ(out.str().rfind("would not run: no suitable GPU: need 1, 0 eligible\n", 0), 0u);
}

TEST_F(AppTest, TheCommandIsLookedUpOnceBeforeItRuns) {
  run({"python", "x.py"});
  EXPECT_EQ(launcher.resolved, std::vector<std::string>{"python"});
  EXPECT_EQ(launcher.launched, std::vector<std::string>({"python", "x.py"}));
}

TEST_F(AppTest, AMissingCommandExits127BeforeAnyGpuIsQueriedWaitedForOrClaimed) {
  machines = {busy};
  launcher.problems.emplace("pyhton", not_found("pyhton"));
  EXPECT_EQ(run({"--wait", "pyhton", "train.py"}), 127);
  EXPECT_EQ(err.str(), "with-gpu: error: command not found: pyhton (check the name and PATH)\n");
  EXPECT_EQ(queries, 0);
  EXPECT_TRUE(waits.empty());
  EXPECT_EQ(claims.attempts, 0);
  EXPECT_TRUE(launcher.launched.empty());
}

TEST_F(AppTest, AMissingCommandIsReportedEvenWithoutADriver) {
  nvml_error = Error{ErrorKind::nvml_unavailable, "NVML unavailable", {}};
  launcher.problems.emplace("pyhton", not_found("pyhton"));
  EXPECT_EQ(run({"pyhton"}), 127);
}

TEST_F(AppTest, ACommandThatCannotBeExecutedExits126ClaimingNothing) {
  launcher.problems.emplace(
      "./train.sh", Error{ErrorKind::command_not_executable,
                          "cannot run ./train.sh: its interpreter /usr/bin/pyhton3 (#! line) is not found", {}});
  EXPECT_EQ(run({"--wait", "./train.sh"}), 126);
  EXPECT_EQ(err.str(),
            "with-gpu: error: cannot run ./train.sh: its interpreter /usr/bin/pyhton3 (#! line) is not found\n");
  EXPECT_EQ(claims.attempts, 0);
}

TEST_F(AppTest, ANumberAsTheCommandGetsAHintAboutMinGpus) {
  launcher.problems.emplace("2", not_found("2"));
  EXPECT_EQ(run({"2", "python3", "train.py"}), 127);
  EXPECT_EQ(err.str(),
            "with-gpu: error: command not found: 2 (check the name and PATH)\n"
            "hint: did you mean --min-gpus 2?\n");
}

TEST_F(AppTest, ADryRunOfAMissingCommandSaysItWouldNotRunAndExits127) {
  launcher.problems.emplace("2", not_found("2"));
  EXPECT_EQ(run({"-n", "2", "python3", "train.py"}), 127);
  // Every GPU's verdict follows, as in any dry run.
  EXPECT_EQ(out.str().substr(0, out.str().find("  GPU 0:")),
            "would not run: command not found: 2 (check the name and PATH)\n"
            "hint: did you mean --min-gpus 2? (-n is --dry-run)\n"
            "GPUs:\n");
  EXPECT_EQ(queries, 1);
  EXPECT_EQ(claims.attempts, 0);
}

TEST_F(AppTest, ADryRunInJsonNamesTheCommandProblemAndWouldNotRun) {
  launcher.problems.emplace("x", Error{ErrorKind::command_not_executable,
                                       "cannot execute x: Permission denied (check its permissions and format)", {}});
  EXPECT_EQ(run({"--dry-run", "--json", "x"}), 126);
  EXPECT_NE(out.str().find("\"would_run\": false"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\"command_problem\": \"cannot execute x: Permission denied (check its permissions and "
                           "format)\""),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("\"environment\": null"), std::string::npos);
  out.str("");
  EXPECT_EQ(run({"--dry-run", "--json", "true"}), 0);
  EXPECT_NE(out.str().find("\"command_problem\": null"), std::string::npos) << out.str();
}

TEST_F(AppTest, StatusAndPrintEnvLookUpNoCommand) {
  run({"--status"});
  run({"--print-env"});
  run({"--dry-run"});
  EXPECT_TRUE(launcher.resolved.empty());
}

// --watch: the driver opened once and read once a frame, a frame every interval on the
// fake clock, until the user quits; the header's time moves on.
TEST_F(AppTest, StatusWatchRedrawsEveryIntervalUntilTheUserQuits) {
  frames_before_quit = 3;
  EXPECT_EQ(run({"--status", "--watch", "2s"}), 0) << err.str();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(screens_opened, 1);
  EXPECT_EQ(queries, 3);
  EXPECT_EQ(frame_sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::seconds(2), std::chrono::seconds(2)}));
  EXPECT_NE(frames[0].find("11:06:40 · 3 GPUs"), std::string::npos) << frames[0];
  EXPECT_NE(frames[2].find("11:06:44 · 3 GPUs"), std::string::npos) << frames[2];
  EXPECT_TRUE(out.str().empty());  // frames go to the screen only
}

TEST_F(AppTest, StatusPrintsATableToStdout) {
  EXPECT_EQ(run({"--status"}), 0);
  EXPECT_NE(out.str().find("3 GPUs · driver 550.54.14"), std::string::npos);
  EXPECT_TRUE(err.str().empty());
}

TEST_F(AppTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run({"--max-util", "200", "true"}), 2);
  EXPECT_EQ(err.str(), "with-gpu: error: --max-util: '200' is not a percentage from 0 to 100\n");
  EXPECT_EQ(queries, 0);
}

}  // namespace
}  // namespace wg

namespace wg {
namespace {

TEST_F(AppTest, TraceNamesEveryPhaseBeforeExec) {
  env.trace = true;
  run({"true"});
  std::string text = err.str();
  auto line = text.find("with-gpu: trace: load ");
  ASSERT_NE(line, std::string::npos) << text;
  for (const char* phase : {", query ", ", select ", ", claim ", ", prepare exec "}) {
    EXPECT_NE(text.find(phase, line), std::string::npos) << phase;
  }
  err.str("");
  env.trace = false;
  run({"true"});
  EXPECT_EQ(err.str().find("trace"), std::string::npos);
}

TEST_F(AppTest, ReadsTopologyOnlyWhenTheDecisionOrTheReportNeedsIt) {
  run({"true"});
  run({"--min-gpus", "2", "true"});
  run({"--min-gpus", "2", "--topology", "ignore", "true"});
  run({"--bind", "true"});
  run({"--status"});
  run({"--status", "--json"});
  EXPECT_EQ(details, (std::vector<TopologyDetail>{TopologyDetail::none, TopologyDetail::locality, TopologyDetail::none,
                                                  TopologyDetail::locality, TopologyDetail::locality,
                                                  TopologyDetail::links}));
  EXPECT_EQ(link_reads, (std::vector<std::vector<unsigned>>{{0, 1, 2}}));  // --min-gpus 2, among the eligible
  details.clear();
  env.allowed_cpus = CpuSet::parse("0-3");
  env.online_cpus = CpuSet::parse("0-7");
  run({"true"});
  run({"--numa", "ignore", "true"});
  EXPECT_EQ(details, (std::vector<TopologyDetail>{TopologyDetail::locality, TopologyDetail::none}));
}

TEST_F(AppTest, ReadsLinksOnlyAmongGpusThatPassedTheFilters) {
  machines = {machine_of({GpuBuilder(0).free_mib(100), GpuBuilder(1), GpuBuilder(2).free_mib(100), GpuBuilder(3)})};
  run({"--min-gpus", "2", "true"});
  EXPECT_EQ(link_reads, (std::vector<std::vector<unsigned>>{{1, 3}}));
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "1,3");
  link_reads.clear();
  run({"--min-gpus", "3", "true"});  // one eligible GPU short: nothing to choose among
  EXPECT_EQ(link_reads, (std::vector<std::vector<unsigned>>{{1, 3}}));
}

TEST_F(AppTest, BindPinsToTheAllowedLocalCpusAndPrefersTheirMemoryBeforeExec) {
  machines = {machine_of({GpuBuilder(0).locality(1, "8-15"), GpuBuilder(1).free_mib(100)})};
  env.allowed_cpus = CpuSet::parse("0-11");
  run({"--bind", "true"});
  EXPECT_EQ(events, (std::vector<std::string>{"pin 8-11", "prefer 1 node(s)"}));
  EXPECT_EQ(launcher.launched, std::vector<std::string>{"true"});
  EXPECT_NE(err.str().find("with-gpu: bound to CPUs 8-11; memory preferred on NUMA node 1\n"), std::string::npos)
      << err.str();
}

TEST_F(AppTest, BindWithoutLibnumaStillPinsAndSaysWhereMemoryGoes) {
  machines = {machine_of({GpuBuilder(0).locality(0, "0-3"), GpuBuilder(1).free_mib(100)})};
  numa_error = Error{ErrorKind::internal, "libnuma.so.1 is not installed (Debian: apt install libnuma1)", {}};
  run({"--bind", "true"});
  EXPECT_EQ(events, (std::vector<std::string>{"pin 0-3", "prefer 1 node(s)"}));
  EXPECT_EQ(launcher.launched, std::vector<std::string>{"true"});
  EXPECT_NE(err.str().find("with-gpu: bound to CPUs 0-3; memory left to the kernel (libnuma.so.1 is not installed "
                           "(Debian: apt install libnuma1))\n"),
            std::string::npos)
      << err.str();
}

TEST_F(AppTest, BindThatCannotPinWarnsAndStillRunsTheCommand) {
  machines = {machine_of({GpuBuilder(0), GpuBuilder(1).free_mib(100)})};
  run({"--bind", "true"});
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(launcher.launched, std::vector<std::string>{"true"});
  EXPECT_NE(err.str().find("with-gpu: warning: --bind: the driver does not report the CPUs local to GPU 0; "
                           "the command keeps the CPUs with-gpu was given\n"),
            std::string::npos)
      << err.str();
}

// Inside a device cgroup (a Slurm job given physical GPUs 0 and 2 of three, CUDA's 0 and 1):
// the GPU it cannot open is never chosen and CUDA_VISIBLE_DEVICES counts as CUDA does.
TEST_F(AppTest, AGpuWhoseDeviceNodeRefusesThisProcessIsNeitherCountedNorChosen) {
  refused_nodes = {1};  // the freest GPU
  env.cuda_visible_devices = "1";
  run({"true"});
  EXPECT_EQ(device_checks, 1);
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], machines[0].gpus[2].uuid);  // unambiguous: by UUID
  EXPECT_EQ(launcher.env.count("CUDA_DEVICE_ORDER"), 0u);
  EXPECT_EQ(claims.held.count(machines[0].gpus[2].uuid), 1u);
}

TEST_F(AppTest, EveryQueryIsCheckedForAccessAndTheTimeoutSaysWhichGpuWasOutOfReach) {
  machines = {machine_of({GpuBuilder(0).free_mib(30000), GpuBuilder(1).claimed_by(4242)})};
  refused_nodes = {0};
  EXPECT_EQ(run({"--wait", "--timeout", "3s", "true"}), 124);
  EXPECT_EQ(device_checks, queries);
  EXPECT_NE(err.str().find("  GPU 0: no access: /dev/nvidia0 refuses this process, as a device cgroup does outside "
                           "this job's allocation\n"),
            std::string::npos)
      << err.str();
}

TEST_F(AppTest, StatusListsAGpuThisProcessCannotOpenAsNoAccess) {
  refused_nodes = {1};
  EXPECT_EQ(run({"--status"}), 0);
  EXPECT_EQ(device_checks, 1);
  EXPECT_NE(out.str().find("NO ACCESS: /dev/nvidia1 refuses this process"), std::string::npos) << out.str();
}

// [policy] max_gpus_per_user: the user's own claims count, other users' do not.
class PolicyTest : public AppTest {
 protected:
  PolicyTest() {
    env.user = "alice";
    env.system_config = temp / "config.toml";
    std::ofstream(temp / "config.toml") << "[policy]\nmax_gpus_per_user = 2\n";
  }
  void hold(unsigned index, const std::string& user, bool inherited = false) {
    ClaimHolder holder{int(500 + index), ClaimMode::exclusive, user, "python train.py"};
    holder.inherited = inherited;
    claims.holders[machines[0].gpus[index].uuid] = holder;
  }
  std::string allows() const { return "the policy in " + (temp / "config.toml") + " allows 2 GPUs per user at once"; }
  test::TempDir temp;
};

TEST_F(PolicyTest, ALaunchOverTheLimitExitsFourNamingTheLimitAndItsSource) {
  hold(0, "alice");
  hold(2, "alice");
  EXPECT_EQ(run({"true"}), 4);
  EXPECT_EQ(err.str(), "with-gpu: error: " + allows() + "; alice already holds 2 (GPU 0, 2) and this asks for 1\n");
  EXPECT_EQ(claims.attempts, 0);
  EXPECT_TRUE(launcher.launched.empty());
}

TEST_F(PolicyTest, OtherUsersClaimsDoNotCount) {
  hold(0, "bob");
  hold(2, "bob");
  run({"true"});
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "1");
}

TEST_F(PolicyTest, ALaunchWithinTheLimitRuns) {
  hold(0, "alice");
  run({"true"});
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "1");
}

TEST_F(PolicyTest, AWaiterOverTheLimitSaysSoWhileWaitingAndAtTheTimeout) {
  hold(0, "alice");
  hold(2, "alice");
  EXPECT_EQ(run({"--wait", "--timeout", "6s", "true"}), 124);
  std::string over = allows() + "; alice already holds 2 (GPU 0, 2) and this asks for 1";
  EXPECT_EQ(err.str(), "with-gpu: waiting 0s at 11:06:40 for 1 GPU (true): " + over + "\nwith-gpu: error: timed out after 6s waiting: " +
                           over + "\n");
  EXPECT_EQ(claims.attempts, 0);
}

TEST_F(PolicyTest, ARequestTheLimitCanNeverAllowFailsAtOnceEvenWithWait) {
  EXPECT_EQ(run({"--wait", "--min-gpus", "3", "true"}), 4);
  EXPECT_EQ(err.str(), "with-gpu: error: " + allows() + " and this asks for 3\n");
  EXPECT_TRUE(waits.empty());
}

TEST_F(PolicyTest, ARangeOfGpusTakesNoMoreThanTheLimitLeaves) {
  hold(0, "alice");
  run({"--min-gpus", "1", "--max-gpus", "3", "true"});
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "1");
}

TEST_F(PolicyTest, ARunInsideTheUsersOwnClaimDoesNotCountItsGpuTwice) {
  hold(0, "alice");
  hold(1, "alice", true);  // the claim this run inherits from the with-gpu that launched it
  run({"--gpu", "1", "true"});
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "1");
}

// MIG: h100_split() is GPU 0 whole, GPU 1 in MIG mode as 3g.40gb (2) and two 2g.20gb (3, 4).
TEST_F(AppTest, LaunchesOnTheSmallestInstanceByItsMigUuidLeavingTheOrderAlone) {
  machines = {test::h100_split()};
  run({"--id-format", "index", "true"});
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "MIG-b0000003-aaaa-bbbb-cccc-ddddeeeeffff");
  EXPECT_EQ(launcher.env.count("CUDA_DEVICE_ORDER"), 0u);
  EXPECT_EQ(claims.held.count("MIG-b0000003-aaaa-bbbb-cccc-ddddeeeeffff"), 1u);
}

TEST_F(AppTest, AnInheritedInstanceIsTheAllocation) {
  machines = {test::h100_split()};
  env.cuda_visible_devices = "MIG-GPU-a0000001-1111-2222-3333-444455556666/3/0";
  run({"true"});
  EXPECT_EQ(launcher.env["CUDA_VISIBLE_DEVICES"], "MIG-b0000004-aaaa-bbbb-cccc-ddddeeeeffff");
  EXPECT_EQ(run({"--gpu", "MIG-b0000003", "true"}), 2);
  EXPECT_NE(err.str().find("with-gpu: error: --gpu MIG-b0000003-aaaa-bbbb-cccc-ddddeeeeffff is outside "
                           "CUDA_VISIBLE_DEVICES='MIG-GPU-a0000001-1111-2222-3333-444455556666/3/0', which allows "
                           "GPU 1 MIG 2g.20gb #2 (--gpu takes NVML indices, as --status lists them)\n"),
            std::string::npos)
      << err.str();
}

TEST_F(AppTest, NamingAGpuInMigModeOrTwoInstancesIsAUsageError) {
  machines = {test::h100_split()};
  EXPECT_EQ(run({"--gpu", "1", "true"}), 2);
  EXPECT_EQ(err.str().rfind("with-gpu: error: --gpu: GPU 1 is in MIG mode, so CUDA uses its MIG instances, not the "
                            "whole GPU; name one of them: MIG-b0000002-aaaa-bbbb-cccc-ddddeeeeffff (3g.40gb), ",
                            0),
            0u)
      << err.str();
  err.str("");
  EXPECT_EQ(run({"--gpu", "MIG-b0000003,MIG-b0000004", "true"}), 2);
  EXPECT_EQ(err.str(), "with-gpu: error: --gpu names GPU 1 MIG 2g.20gb #1 and GPU 1 MIG 2g.20gb #2: a CUDA process "
                       "uses one MIG instance and no other device (never two instances); run one launch per instance\n");
  EXPECT_TRUE(launcher.launched.empty());
}

TEST_F(AppTest, TwoDevicesWhereOnlyInstancesPassExplainOneLaunchPerWorker) {
  Gpu parent = test::split(GpuBuilder(0, 81920));
  machines = {machine_of({parent, test::instance(GpuBuilder(1, 40448), parent, 0, 3),
                          test::instance(GpuBuilder(2, 40448), parent, 1, 3)})};
  EXPECT_EQ(run({"--min-gpus", "2", "true"}), 4);
  EXPECT_EQ(err.str().rfind("with-gpu: error: no suitable GPU: need 2, 0 eligible\n", 0), 0u) << err.str();
  EXPECT_NE(err.str().find("\nhint: a CUDA process uses one MIG instance and no other device, so a launch that needs "
                           "several devices cannot use MIG instances; run one launch per worker instead, e.g. "
                           "`with-gpu --mig-profile 3g.40gb python train.py` in each worker process\n"
                           "hint: run `with-gpu --status` to see every GPU\n"),
            std::string::npos)
      << err.str();
}

TEST_F(AppTest, AMigProfileNoInstanceHasListsTheProfilesThereAre) {
  machines = {test::h100_split()};
  EXPECT_EQ(run({"--mig-profile", "1g.10gb", "true"}), 4);
  EXPECT_NE(err.str().find("\nhint: no MIG instance here has profile 1g.10gb (the profiles here: 3g.40gb, 2g.20gb)\n"
                           "hint: run `with-gpu --status` to see every GPU\n"),
            std::string::npos)
      << err.str();
  machines = {machine_of({GpuBuilder(0)})};
  err.str("");
  EXPECT_EQ(run({"--mig-profile", "1g.10gb", "true"}), 4);
  EXPECT_NE(err.str().find("\nhint: no MIG instance here has profile 1g.10gb (no GPU here is split into MIG "
                           "instances)\n"),
            std::string::npos)
      << err.str();
}

TEST_F(AppTest, WholeGpuErrorsGetNoMigHints) {
  machines = {busy};
  EXPECT_EQ(run({"--min-gpus", "2", "true"}), 4);
  EXPECT_EQ(err.str().find("MIG"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace wg
