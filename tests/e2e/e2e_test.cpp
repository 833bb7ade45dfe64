// End-to-end: the built with-gpu against the NVML test double, checking what the
// launched command saw and what the user reads.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/e2e_fixture.hpp"

namespace wg::test {
namespace {

class Workstation : public E2E {
 protected:
  Workstation() { write_machine(example("workstation-4x3090.json")); }
};

TEST_F(Workstation, StatusShowsEveryGpuWithItsState) {
  auto result = with_gpu({"--status"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.err.empty());
  EXPECT_TRUE(contains(result.out, "4 GPUs · driver 550.54.14 · CUDA 12.4"));
  EXPECT_TRUE(contains(result.out, "  1  NVIDIA GeForce RTX 3090  2 / 24576 MiB (0%)"));
  EXPECT_TRUE(contains(result.out, "IDLE"));
  EXPECT_TRUE(contains(result.out, "USED  (suspected hidden usage: 9.0 GiB)"));
  EXPECT_TRUE(contains(result.out, "97%   78C  340 / 350 W"));  // 5 s averages of the driver's samples
  EXPECT_TRUE(contains(result.out, "util and power: 5.0s averages"));
  EXPECT_FALSE(contains(result.out, "instantaneous"));
  EXPECT_FALSE(contains(result.out, "\033["));  // not a TTY: no colors
}

TEST_F(Workstation, RunsTheCommandOnTheGpuWithMostFreeMemory) {
  EXPECT_EQ(probe({}), "1|PCI_BUS_ID");
}

TEST_F(Workstation, TheCommandsExitStatusIsWhatTheCallerSees) {
  auto result = with_gpu({"sh", "-c", "exit 7"});
  EXPECT_EQ(result.exit_code, 7);
  EXPECT_TRUE(contains(result.err, "with-gpu: using GPU 1 (NVIDIA GeForce RTX 3090, 23.7 GiB free); CUDA_VISIBLE_DEVICES=1"));
}

TEST_F(Workstation, PassesHyphenatedArgumentsThrough) {
  auto result = with_gpu({"sh", "-c", "echo \"$@\"", "sh", "--lr", "3", "--gpu", "0"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "--lr 3 --gpu 0\n");
}

TEST_F(Workstation, MinGpusTwoTakesTheTwoBestInRankOrder) {
  EXPECT_EQ(probe({"--min-gpus", "2"}), "1,2|PCI_BUS_ID");
  EXPECT_EQ(probe({"--min-gpus", "1", "--max-gpus", "8", "--min-memory", "0"}), "1,2,0|PCI_BUS_ID");
}

TEST_F(Workstation, ManualGpuListKeepsItsOrder) { EXPECT_EQ(probe({"--gpu", "2,1"}), "2,1|PCI_BUS_ID"); }

TEST_F(Workstation, ManualGpuStillPassesTheFilters) {
  auto result = with_gpu({"--gpu", "3", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_EQ(result.err,
            "with-gpu: error: no suitable GPU: need 1, 0 eligible\n"
            "  GPU 3: suspected hidden usage: 9.0 GiB used by processes NVML does not list\n"
            "hint: run `with-gpu --status` to see every GPU\n");
}

TEST_F(Workstation, UnknownManualGpuIsAUsageError) {
  auto result = with_gpu({"--gpu", "9", "true"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "with-gpu: error: --gpu 9: no such GPU (this machine has 4 GPUs; see with-gpu --status)\n");
}

TEST_F(Workstation, MinMemoryAcceptsUnitsAndListsEveryRejection) {
  EXPECT_EQ(probe({"--min-memory", "21G"}), "1|PCI_BUS_ID");
  auto result = with_gpu({"--min-memory", "24GiB", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_EQ(result.err,
            "with-gpu: error: no suitable GPU: need 1, 0 eligible\n"
            "  GPU 0: 3.7 GiB free < 24.0 GiB\n"
            "  GPU 1: 23.7 GiB free < 24.0 GiB\n"
            "  GPU 2: 20.6 GiB free < 24.0 GiB\n"
            "  GPU 3: suspected hidden usage: 9.0 GiB used by processes NVML does not list; 14.7 GiB free < 24.0 GiB\n"
            "hint: run `with-gpu --status` to see every GPU\n");
}

TEST_F(Workstation, MaxUtilAndRequireIdleFilter) {
  EXPECT_EQ(probe({"--max-util", "40", "--min-gpus", "2"}), "1,2|PCI_BUS_ID");
  auto result = with_gpu({"--require-idle", "--min-gpus", "2", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(contains(result.err, "  GPU 2: not idle (1 process)\n"));
}

TEST_F(Workstation, WarnsOnStderrWhenTheChosenGpuIsBusyOrLow) {
  auto result = with_gpu({"--gpu", "0", "--min-memory", "0", "true"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "with-gpu: warning: GPU 0 is not idle (2 processes, 20.0 GiB used)\n"));
  EXPECT_FALSE(contains(result.err, "has only"));  // 3.7 GiB free: above the 2 GiB warning line
}

TEST_F(E2E, WarnsWhenTheChosenGpuHasLessThanTwoGiBFree) {
  write_machine(machine_of({gpu(0, 1536)}));
  auto result = with_gpu({"--min-memory", "0", "true"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err, "with-gpu: warning: GPU 0 has only 1.5 GiB free\n"));
}

TEST_F(Workstation, DryRunPrintsEveryVerdictAndRunsNothing) {
  auto result = with_gpu({"--dry-run", "--min-memory", "21G", "touch", temp / "ran"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out,
            "would run: touch " + (temp / "ran") + "\n"
            "on GPU 1\n"
            "  CUDA_VISIBLE_DEVICES=1\n"
            "  CUDA_DEVICE_ORDER=PCI_BUS_ID\n"
            "GPUs:\n"
            "  GPU 0: rejected: 3.7 GiB free < 21.0 GiB [util 97% avg, 78C, 340 W avg]\n"
            "  GPU 1: chosen (23.7 GiB free), tier: idle [util 0% avg, 34C, 22 W avg]\n"
            "  GPU 2: rejected: 20.6 GiB free < 21.0 GiB [util 32% avg, 45C, 154 W avg]\n"
            "  GPU 3: rejected: suspected hidden usage: 9.0 GiB used by processes NVML does not list; "
            "14.7 GiB free < 21.0 GiB [util 38% avg, 60C, 180 W avg]\n");
  EXPECT_NE(access((temp / "ran").c_str(), F_OK), 0);
  EXPECT_NE(access(lock_dir.c_str(), F_OK), 0);  // nothing claimed, not even the directory made
}

TEST_F(Workstation, DryRunShowsTheTierOfEveryRankedGpu) {
  auto result = with_gpu({"--dry-run", "--min-memory", "2G", "true"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "  GPU 0: eligible, not needed (3.7 GiB free), tier: busy (2 processes, "
                                   "20.0 GiB used) [util 97% avg"))
      << result.out;
  EXPECT_TRUE(contains(result.out, "  GPU 1: chosen (23.7 GiB free), tier: idle [util 0% avg")) << result.out;
  EXPECT_TRUE(contains(result.out, "  GPU 2: eligible, not needed (20.6 GiB free), tier: busy (1 process, "
                                   "3.1 GiB used) ["))
      << result.out;
  EXPECT_TRUE(contains(result.out, "  GPU 3: rejected: suspected hidden usage")) << result.out;
  auto gpus = json::parse(with_gpu({"--dry-run", "--json", "--min-memory", "2G", "true"}).out)["gpus"];
  EXPECT_EQ(gpus[0]["tier"], "busy");
  EXPECT_EQ(gpus[0]["tier_detail"], "2 processes, 20.0 GiB used");
  EXPECT_EQ(gpus[1]["tier"], "idle");
  EXPECT_TRUE(gpus[1]["tier_detail"].is_null());
  EXPECT_TRUE(gpus[3]["tier"].is_null());  // rejected: not ranked
  EXPECT_TRUE(gpus[3]["tier_detail"].is_null());
}

TEST_F(Workstation, VersionAndHelp) {
  auto version = with_gpu({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("with-gpu 0.", 0), 0u);
  auto help = with_gpu({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "--min-memory SIZE    free memory floor; a bare number is MiB"));
  EXPECT_TRUE(contains(help.out, "[default: 2048 MiB]"));
}

TEST_F(Workstation, UnknownOptionSuggestsTheNearestOne) {
  auto result = with_gpu({"--min-gpu", "2", "python"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "with-gpu: error: unknown option '--min-gpu' (did you mean '--min-gpus'?)\n");
}

TEST_F(Workstation, CommandNotFoundIs127AndNotExecutableIs126) {
  auto missing = with_gpu({"no-such-command-xyz"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_EQ(missing.err.substr(missing.err.find("with-gpu: error:")),
            "with-gpu: error: command not found: no-such-command-xyz (check the name and PATH)\n");
  std::string script = temp / "script.sh";
  std::ofstream(script) << "#!/bin/sh\necho hi\n";
  chmod(script.c_str(), 0644);
  auto not_executable = with_gpu({script});
  EXPECT_EQ(not_executable.exit_code, 126);
  EXPECT_TRUE(contains(not_executable.err, "with-gpu: error: cannot execute " + script + ": Permission denied"));
}

TEST_F(Workstation, ADryRunOfANumberSaysTheCommandIsNotFoundAndHintsAtMinGpus) {
  auto result = with_gpu({"-n", "2", "python3", "train.py"});  // nvisel's "2 GPUs"
  EXPECT_EQ(result.exit_code, 127) << result.out;
  EXPECT_EQ(result.out.substr(0, result.out.find("GPUs:\n")),
            "would not run: command not found: 2 (check the name and PATH)\n"
            "hint: did you mean --min-gpus 2? (-n is --dry-run)\n");
  auto json_result = with_gpu({"--dry-run", "--json", "pyhton", "train.py"});
  EXPECT_EQ(json_result.exit_code, 127);
  auto decision = json::parse(json_result.out);
  EXPECT_EQ(decision["would_run"], false);
  EXPECT_EQ(decision["command_problem"], "command not found: pyhton (check the name and PATH)");
}

TEST_F(Workstation, AScriptWhoseInterpreterIsMissingIsReportedAsSuch) {
  std::string script = temp / "train.sh";
  std::ofstream(script) << "#!/usr/bin/pyhton3\nprint('hi')\n";
  chmod(script.c_str(), 0755);
  auto result = with_gpu({script});
  EXPECT_EQ(result.exit_code, 126);
  EXPECT_EQ(result.err, "with-gpu: error: cannot run " + script +
                            ": its interpreter /usr/bin/pyhton3 (#! line) is not found\n");
  auto dry = with_gpu({"--dry-run", script});
  EXPECT_EQ(dry.exit_code, 126);
  EXPECT_EQ(dry.out.rfind("would not run: cannot run " + script + ": its interpreter /usr/bin/pyhton3 (#! line) is not "
                          "found\n", 0),
            0u)
      << dry.out;
}

TEST_F(Workstation, ASymlinkedLockDirectoryIsRefused) {
  mkdir((temp / "elsewhere").c_str(), 0777);
  symlink((temp / "elsewhere").c_str(), lock_dir.c_str());
  auto result = with_gpu({"true"});
  EXPECT_EQ(result.exit_code, 5);
  EXPECT_EQ(result.err, "with-gpu: error: lock directory " + lock_dir +
                            " is a symbolic link, which with-gpu refuses; remove it or choose another with --lock-dir\n");
}

TEST_F(Workstation, LockDirFlagOverridesTheEnvironment) {
  std::string other = temp / "other-locks";
  EXPECT_EQ(probe({"--lock-dir", other}), "1|PCI_BUS_ID");
  struct stat info {};
  EXPECT_EQ(stat(other.c_str(), &info), 0);
  EXPECT_NE(access(lock_dir.c_str(), F_OK), 0);
}

TEST_F(Workstation, AnOptionWhereAValueBelongsIsAUsageErrorAndNothingRuns) {
  std::string ran = temp / "ran";
  auto lock_dir_flag = with_gpu({"--lock-dir", "--dry-run", "touch", ran});
  EXPECT_EQ(lock_dir_flag.exit_code, 2);
  EXPECT_EQ(lock_dir_flag.err, "with-gpu: error: --lock-dir needs a value (got the option '--dry-run')\n");
  auto gpu_type = with_gpu({"--gpu-type", "--dry-run", "touch", ran});
  EXPECT_EQ(gpu_type.exit_code, 2);
  EXPECT_EQ(gpu_type.err, "with-gpu: error: --gpu-type needs a value (got the option '--dry-run')\n");
  EXPECT_FALSE(std::filesystem::exists(ran));
}

TEST_F(Workstation, AnEmptyGpuListIsAUsageErrorNotAutomaticSelection) {
  std::string ran = temp / "ran";
  auto result = with_gpu({"--gpu", "", "touch", ran});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "with-gpu: error: --gpu needs at least one GPU index or UUID\n");
  EXPECT_FALSE(std::filesystem::exists(ran));
}

TEST_F(Workstation, ShowConfigPrintsAValueOfAnyLength) {
  auto result = with_gpu({"--show-config"}, {{"WITH_GPU_LOCK_DIR", "/scratch/gpu-claims"}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "lock_dir       = /scratch/gpu-claims # WITH_GPU_LOCK_DIR\n")) << result.out;
}

// Run from `dir` (created), as a user who cd'ed there would.
ProcessResult with_gpu_in(const std::string& dir, std::vector<std::string> args, const Env& env) {
  std::filesystem::create_directories(dir);
  args.insert(args.begin(), {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir, WITH_GPU_BINARY});
  return run_process(args, env);
}

TEST_F(Workstation, ARelativeLockDirIsTakenFromTheCurrentDirectory) {
  Env relative = env;
  relative["WITH_GPU_LOCK_DIR"] = "claims";
  auto shown = with_gpu_in(temp / "project", {"--show-config"}, relative);
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_TRUE(contains(shown.out, "lock_dir       = " + (temp / "project/claims") + " # WITH_GPU_LOCK_DIR\n"))
      << shown.out;
  auto ran = with_gpu_in(temp / "project", {"--", "sh", "-c", "cd / && ls \"$0\"", temp / "project/claims"},
                         relative);
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_TRUE(contains(ran.out, "gpu-")) << ran.out;
}

TEST_F(Workstation, ARelativeLockDirNeedsAReadableCurrentDirectory) {
  std::string gone = temp / "gone";
  std::filesystem::create_directories(gone);
  auto result = run_process({"/bin/sh", "-c", "cd \"$0\" && rmdir \"$0\" && exec \"$@\"", gone, WITH_GPU_BINARY,
                             "--lock-dir", "claims", "true"},
                            env);
  EXPECT_EQ(result.exit_code, 5);
  EXPECT_EQ(result.err,
            "with-gpu: error: --lock-dir: 'claims' is relative and the current directory cannot be read "
            "(No such file or directory); give an absolute path\n");
}

TEST_F(E2E, ABareLaunchTakesAnIdleGpuOverABusyOneWithMoreFreeMemory) {
  json machine = machine_of({gpu(0, 81000), gpu(1, 30000)});
  machine["gpus"][0]["memory_used_mib"] = 2000;  // a colleague's run: 79000 MiB still free
  machine["gpus"][0]["processes"] = json::array({{{"pid", 31337}, {"used_memory_mib", 2000}}});
  machine["gpus"][0]["utilization_percent"] = 97;
  write_machine(machine);
  auto result = with_gpu({"sh", "-c", "echo $CUDA_VISIBLE_DEVICES"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "1\n");
  EXPECT_FALSE(contains(result.err, "warning")) << result.err;
  // Only the busy GPU has room: it is still used, with the warning.
  auto busy = with_gpu({"--min-memory", "40G", "sh", "-c", "echo $CUDA_VISIBLE_DEVICES"});
  EXPECT_EQ(busy.exit_code, 0) << busy.err;
  EXPECT_EQ(busy.out, "0\n");
  EXPECT_TRUE(contains(busy.err, "with-gpu: warning: GPU 0 is not idle (1 process, 2.0 GiB used)\n")) << busy.err;
}

TEST_F(E2E, MixedModelsGetPciOrderPositionsNotFastestFirst) {
  write_machine(example("server-8gpu-mixed.json"));
  // H100s sit at odd NVML indices; CUDA's default order would number them first.
  EXPECT_EQ(probe({"--gpu-type", "h100", "--min-gpus", "2"}), "3,5|PCI_BUS_ID");
  EXPECT_EQ(probe({"--gpu", "7"}), "7|PCI_BUS_ID");
}

TEST_F(E2E, GpuTypeFallsBackWithAWarningUnlessStrict) {
  write_machine(example("server-8gpu-mixed.json"));
  auto fallback = with_gpu({"--gpu-type", "a100", "true"});
  EXPECT_EQ(fallback.exit_code, 0);
  EXPECT_TRUE(contains(fallback.err, "does not match --gpu-type a100; using it because no matching GPU is free"));
  auto strict = with_gpu({"--gpu-type", "a100", "--strict", "true"});
  EXPECT_EQ(strict.exit_code, 4);
  EXPECT_TRUE(contains(strict.err, "  GPU 0: 'NVIDIA L40S' does not match --gpu-type a100 (--strict)\n"));
}

TEST_F(E2E, NvmlIndexOrderDifferentFromPciOrderIsTranslated) {
  json machine = machine_of({gpu(0, 10000), gpu(1, 30000), gpu(2, 20000)});
  machine["gpus"][0]["pci_bus_id"] = "00000000:C1:00.0";
  machine["gpus"][1]["pci_bus_id"] = "00000000:81:00.0";
  machine["gpus"][2]["pci_bus_id"] = "00000000:01:00.0";
  write_machine(machine);
  // NVML GPU 1 (most free) is second on the PCI bus.
  EXPECT_EQ(probe({}), "1|PCI_BUS_ID");
  EXPECT_EQ(probe({"--gpu", "0,2"}), "2,0|PCI_BUS_ID");
}

class Allocated : public E2E {
 protected:
  Allocated() { write_machine(machine_of({gpu(0, 10000), gpu(1, 30000), gpu(2, 20000), gpu(3, 35000)})); }
};

TEST_F(Allocated, IntegerEntriesLimitTheChoice) {
  EXPECT_EQ(probe({}, {{"CUDA_VISIBLE_DEVICES", "0,2"}}), "2|PCI_BUS_ID");
  EXPECT_EQ(probe({"--min-gpus", "2"}, {{"CUDA_VISIBLE_DEVICES", "0,1,2"}}), "1,2|PCI_BUS_ID");
}

TEST_F(Allocated, UuidEntriesAreAnsweredWithUuids) {
  EXPECT_EQ(probe({}, {{"CUDA_VISIBLE_DEVICES", "GPU-c0de0000,GPU-c0de0002-aaaa-bbbb-cccc-dddddddddddd"}}),
            "GPU-c0de0002-aaaa-bbbb-cccc-dddddddddddd|unset");
}

TEST_F(Allocated, ACallersOtherDeviceOrderIsAnsweredWithUuidsAndKept) {
  EXPECT_EQ(probe({}, {{"CUDA_DEVICE_ORDER", "FASTEST_FIRST"}}), "GPU-c0de0003-aaaa-bbbb-cccc-dddddddddddd|FASTEST_FIRST");
}

TEST_F(Allocated, IdFormatForcesEitherForm) {
  EXPECT_EQ(probe({"--id-format", "uuid"}), "GPU-c0de0003-aaaa-bbbb-cccc-dddddddddddd|unset");
  EXPECT_EQ(probe({"--id-format", "index"}, {{"CUDA_DEVICE_ORDER", "FASTEST_FIRST"}}), "3|PCI_BUS_ID");
}

TEST_F(Allocated, AnEmptyAllocationAllowsNoGpu) {
  auto result = with_gpu({"true"}, {{"CUDA_VISIBLE_DEVICES", ""}});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_EQ(result.err,
            "with-gpu: error: CUDA_VISIBLE_DEVICES='' allows no GPU; unset it to let with-gpu choose among all GPUs\n");
}

TEST_F(Allocated, MigAndUnknownEntriesAreErrors) {
  auto mig = with_gpu({"true"}, {{"CUDA_VISIBLE_DEVICES", "MIG-1234"}});
  EXPECT_EQ(mig.exit_code, 2);
  EXPECT_EQ(mig.err,
            "with-gpu: error: CUDA_VISIBLE_DEVICES entry 'MIG-1234' names no MIG instance on this machine (see "
            "with-gpu --status)\n");
  auto unknown = with_gpu({"true"}, {{"CUDA_VISIBLE_DEVICES", "0,7"}});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err,
            "with-gpu: error: CUDA_VISIBLE_DEVICES entry '7' names no GPU (this machine has 4 GPUs, positions 0-3 in PCI "
            "bus order)\n");
}

TEST_F(Allocated, AManualGpuOutsideTheAllocationIsAnError) {
  auto result = with_gpu({"--gpu", "3", "true"}, {{"CUDA_VISIBLE_DEVICES", "0,1"}});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "with-gpu: error: --gpu 3 is outside CUDA_VISIBLE_DEVICES='0,1', which allows GPUs 0, 1 (--gpu takes NVML indices, as --status lists them)\n");
}

TEST_F(E2E, OnAMachineWithoutGpusAnAllocationOrAGpuListSaysSo) {
  write_machine(machine_of(json::array()));
  auto allocated = with_gpu({"true"}, {{"CUDA_VISIBLE_DEVICES", "0"}});
  EXPECT_EQ(allocated.exit_code, 2);
  EXPECT_EQ(allocated.err, "with-gpu: error: CUDA_VISIBLE_DEVICES entry '0' names no GPU (this machine has no GPUs)\n");
  auto listed = with_gpu({"--gpu", "0", "true"});
  EXPECT_EQ(listed.exit_code, 2);
  EXPECT_EQ(listed.err, "with-gpu: error: --gpu 0: no such GPU (this machine has no GPUs)\n");
}

TEST_F(E2E, HiddenUsageExcludesButUnattributedProcessMemoryDoesNot) {
  json machine = machine_of({gpu(0, 30000), gpu(1, 20000)});
  machine["gpus"][0]["memory_used_mib"] = 4000;  // no process listed: someone NVML cannot see
  machine["gpus"][1]["memory_used_mib"] = 4000;
  machine["gpus"][1]["processes"] = json::array({{{"pid", 900}, {"used_memory_mib", nullptr}}});
  write_machine(machine);
  EXPECT_EQ(probe({}), "1|PCI_BUS_ID");
  auto status = with_gpu({"--status"});
  EXPECT_TRUE(contains(status.out, "(suspected hidden usage: 3.9 GiB)"));
}

TEST_F(E2E, UnsupportedReadingsShowAsNaAndDoNotBlockSelection) {
  json machine = machine_of({gpu(0)});
  machine["gpus"][0]["errors"] = {{"nvmlDeviceGetTemperature", "NOT_SUPPORTED"},
                                  {"nvmlDeviceGetPowerUsage", "NOT_SUPPORTED"},
                                  {"nvmlDeviceGetEnforcedPowerLimit", "NOT_SUPPORTED"},
                                  {"nvmlDeviceGetUtilizationRates", "NOT_SUPPORTED"}};
  write_machine(machine);
  auto status = with_gpu({"--status"});
  ASSERT_EQ(status.exit_code, 0);
  EXPECT_TRUE(contains(status.out, "n/a   n/a    n/a"));
  EXPECT_EQ(probe({}), "0|PCI_BUS_ID");
  auto util = with_gpu({"--max-util", "50", "true"});
  EXPECT_EQ(util.exit_code, 4);
  EXPECT_TRUE(contains(util.err, "  GPU 0: utilization not reported by the driver\n"));
}

TEST_F(E2E, ALostGpuIsListedUnusableAndTheOthersStillWork) {
  json machine = machine_of({gpu(0, 40000), gpu(1, 20000), gpu(2, 10000)});
  machine["gpus"][0]["errors"] = {{"nvmlDeviceGetMemoryInfo", "GPU_IS_LOST"}};
  write_machine(machine);
  auto status = with_gpu({"--status"});
  ASSERT_EQ(status.exit_code, 0);
  EXPECT_TRUE(contains(status.out, "UNUSABLE: GPU is lost"));
  // CUDA may not count a lost GPU, so positions could shift: the answer is a UUID.
  EXPECT_EQ(probe({}), "GPU-c0de0001-aaaa-bbbb-cccc-dddddddddddd|unset");
}

TEST_F(E2E, ARefusedProcessListIsNeverCalledIdle) {
  json machine = machine_of({gpu(0, 40000), gpu(1, 20000)});
  machine["gpus"][0]["errors"] = {{"nvmlDeviceGetComputeRunningProcesses", "NO_PERMISSION"}};
  write_machine(machine);
  auto status = with_gpu({"--status"});
  EXPECT_TRUE(contains(status.out, "USED  (process list not available)"));
  EXPECT_EQ(probe({}), "1|PCI_BUS_ID");  // ranked with the busy GPUs, after idle GPU 1
  EXPECT_EQ(probe({"--min-memory", "30G"}), "0|PCI_BUS_ID");  // still used when nothing better passes
  auto idle = with_gpu({"--require-idle", "--min-memory", "30G", "true"});
  EXPECT_EQ(idle.exit_code, 4);
  EXPECT_TRUE(contains(idle.err, "  GPU 0: not idle (process list not available)\n")) << idle.err;
}

TEST_F(E2E, AnOldDriverWithoutVersionedSymbolsWorks) {
  write_machine(example("workstation-old-driver.json"));
  auto status = with_gpu({"--status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "driver 440.33.01"));
  EXPECT_TRUE(contains(status.out, "  1  Tesla V100-SXM2-16GB  307 / 16160 MiB"));  // v1 counts reserved as used
  EXPECT_EQ(probe({}), "1|PCI_BUS_ID");
}

TEST_F(E2E, AFortyProcessListThatGrewBetweenCallsIsReadWhole) {
  json machine = machine_of({gpu(0)});
  json processes = json::array();
  for (int i = 0; i < 40; ++i) processes.push_back({{"pid", 7000 + i}, {"used_memory_mib", 10}});
  machine["gpus"][0]["processes"] = processes;
  machine["gpus"][0]["memory_used_mib"] = 400;
  machine["gpus"][0]["process_count_understated_by"] = 30;
  write_machine(machine);
  auto status = with_gpu({"--status", "--json"});
  ASSERT_EQ(status.exit_code, 0);
  auto parsed = json::parse(status.out);
  EXPECT_EQ(parsed["gpus"][0]["process_count"], 40);
  EXPECT_EQ(parsed["gpus"][0]["processes"][39]["pid"], 7039);
  EXPECT_EQ(parsed["gpus"][0]["hidden_usage_mib"], 0);
}

TEST_F(E2E, A535DriverProcessListIsDecodedWithItsWiderElements) {
  json machine = machine_of({gpu(0)});
  machine["driver_version"] = "535.54.03";
  machine["gpus"][0]["processes"] = json::array({{{"pid", 11}, {"used_memory_mib", 100}}, {{"pid", 22}, {"used_memory_mib", 200}}});
  machine["gpus"][0]["memory_used_mib"] = 300;
  write_machine(machine);
  auto parsed = json::parse(with_gpu({"--status", "--json"}).out);
  EXPECT_EQ(parsed["gpus"][0]["processes"][1]["pid"], 22);
  EXPECT_EQ(parsed["gpus"][0]["processes"][1]["used_memory_mib"], 200);
}

TEST_F(E2E, NoLibraryExitsThreeWithOneLineAndRunsNothing) {
  write_machine(machine_of({gpu(0)}));
  auto result = with_gpu({"touch", temp / "ran"}, {{"WITH_GPU_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1"}});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.err.rfind("with-gpu: error: cannot load the NVIDIA driver library /nonexistent/libnvidia-ml.so.1 (", 0), 0u);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);
  EXPECT_NE(access((temp / "ran").c_str(), F_OK), 0);
}

TEST_F(E2E, DriverNotLoadedAndVersionMismatchExitThree) {
  write_machine({{"errors", {{"nvmlInit", "DRIVER_NOT_LOADED"}}}, {"gpus", json::array()}});
  auto not_loaded = with_gpu({"true"});
  EXPECT_EQ(not_loaded.exit_code, 3);
  EXPECT_EQ(not_loaded.err,
            "with-gpu: error: the NVIDIA kernel driver is not loaded (NVML: Driver Not Loaded); check that `nvidia-smi` "
            "works and the nvidia module is loaded\n");
  write_machine({{"errors", {{"nvmlInit", "LIB_RM_VERSION_MISMATCH"}}}, {"gpus", json::array()}});
  auto mismatch = with_gpu({"--status"});
  EXPECT_EQ(mismatch.exit_code, 3);
  EXPECT_TRUE(contains(mismatch.err, "reboot or reload the nvidia module"));
}

TEST_F(E2E, TwoHundredFiftySixGpus) {
  json gpus = json::array();
  for (int i = 0; i < 256; ++i) {
    json one = gpu(i, 10000 + (i * 37) % 256);
    char bus[32];
    std::snprintf(bus, sizeof bus, "00000000:%02X:%02X.0", i / 32, i % 32);
    one["pci_bus_id"] = bus;
    gpus.push_back(one);
  }
  write_machine(machine_of(gpus));
  auto status = with_gpu({"--status"});
  ASSERT_EQ(status.exit_code, 0);
  EXPECT_TRUE(contains(status.out, "256 GPUs"));
  EXPECT_TRUE(contains(status.out, "\n255  NVIDIA"));
  // 10000 + (i*37 % 256) is largest (10255) at i = 83 (83*37 = 3071 = 11*256 + 255).
  EXPECT_EQ(probe({}), "83|PCI_BUS_ID");
}

TEST_F(E2E, PrintEnvPrintsExportLinesAndSaysNothingIsClaimed) {
  write_machine(machine_of({gpu(0, 10000), gpu(1, 30000)}));
  auto result = with_gpu({"--print-env", "--min-memory", "8G"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "export CUDA_VISIBLE_DEVICES=1\nexport CUDA_DEVICE_ORDER=PCI_BUS_ID\n");
  EXPECT_NE(result.err.find("(not claimed: another launch may choose it too)"), std::string::npos);
  auto none = with_gpu({"--print-env", "--min-memory", "50G"});
  EXPECT_EQ(none.exit_code, 4);
  EXPECT_TRUE(none.out.empty());
  auto uuids = with_gpu({"--print-env", "--quiet", "--id-format", "uuid"});
  EXPECT_EQ(uuids.out, "export CUDA_VISIBLE_DEVICES=GPU-c0de0001-aaaa-bbbb-cccc-dddddddddddd\n");
}

}  // namespace
}  // namespace wg::test
