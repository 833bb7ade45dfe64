// Claims under concurrency and process death: the guarantees that make with-gpu safe
// to launch many times at once.

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <memory>

#include "support/e2e_fixture.hpp"

namespace wg::test {
namespace {

using namespace std::chrono_literals;

std::string current_user() {
  passwd* entry = getpwuid(getuid());
  return entry ? entry->pw_name : std::to_string(getuid());
}

class Claims : public E2E {
 protected:
  Claims() { write_machine(machine_of({gpu(0), gpu(1), gpu(2), gpu(3)})); }
};

TEST_F(Claims, TheCommandHoldsTheClaimUnderItsOwnPidAndSigkillFreesItAtOnce) {
  auto holder = start({"--gpu", "1", "--", "sleep", "30"}, "holder");
  json claims = wait_for_claims(1, "sleep 30");
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0]["pid"], holder->pid());  // exec keeps the pid: the command is the holder
  EXPECT_EQ(claims[0]["mode"], "exclusive");
  EXPECT_EQ(claims[0]["user"], current_user());
  EXPECT_EQ(claims[0]["command"], "sleep 30");
  EXPECT_EQ(claims[0]["inherited"], false);

  auto refused = with_gpu({"--gpu", "1", "true"});
  EXPECT_EQ(refused.exit_code, 4);
  std::string holder_text = "pid " + std::to_string(holder->pid()) + " (" + current_user() + ", sleep 30)";
  EXPECT_TRUE(refused.err.find("  GPU 1: claimed by " + holder_text + "\n") != std::string::npos)
      << refused.err;
  auto status = with_gpu({"--status"});
  EXPECT_TRUE(status.out.find("CLAIMED by " + holder_text) != std::string::npos) << status.out;

  holder->signal(SIGKILL);
  EXPECT_EQ(holder->wait(), 128 + SIGKILL);
  EXPECT_EQ(probe({"--gpu", "1"}), "1|PCI_BUS_ID");
}

TEST_F(Claims, ChildrenThatKeepTheDescriptorKeepTheClaim) {
  std::string go = temp / "go", flag = temp / "released";
  auto result = with_gpu(
      {"--gpu", "0", "--", "sh", "-c", "(" + shell_wait_for(go) + "; touch " + flag + ") >/dev/null 2>&1 & exit 0"});
  EXPECT_EQ(result.exit_code, 0);
  auto while_child_runs = with_gpu({"--gpu", "0", "true"});
  EXPECT_EQ(while_child_runs.exit_code, 4) << "the background child still holds the claim";
  go_ahead(go);
  // Released when the child exits: a waiter that polls once a minute gets it at once.
  EXPECT_EQ(probe({"--wait", "--gpu", "0", "--poll-interval", "60s", "--timeout", "30s"}), "0|PCI_BUS_ID");
  EXPECT_EQ(access(flag.c_str(), F_OK), 0);
}

TEST_F(Claims, ASetIsClaimedAllOrNothing) {
  auto holder = start({"--gpu", "2", "--", "sleep", "30"}, "holder");
  ASSERT_FALSE(wait_for_claims(2).empty());
  auto result = with_gpu({"--gpu", "1,2", "true"});
  EXPECT_EQ(result.exit_code, 4);
  auto status = json::parse(with_gpu({"--status", "--json"}).out);
  EXPECT_TRUE(status["gpus"][1]["claims"].empty()) << "GPU 1 must not stay claimed by the failed launch";
}

TEST_F(Claims, ClaimsAreKeyedByUuidWhateverIndexAContainerSees) {
  auto holder = start({"--gpu", "3", "--", "sleep", "30"}, "holder");
  ASSERT_FALSE(wait_for_claims(3).empty());
  // A container that sees only that GPU, as its index 0.
  std::string subset = temp / "subset.json";
  std::ofstream(subset) << machine_of({gpu(3)}).dump();
  auto result = with_gpu({"true"}, {{"NVML_DOUBLE_MACHINE", subset}});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(result.err.find("  GPU 0: claimed by pid " + std::to_string(holder->pid())) != std::string::npos)
      << result.err;
}

TEST_F(Claims, WaitingNoticesMemoryFreedOutsideWithGpu) {
  json busy = machine_of({gpu(0)});
  busy["gpus"][0]["memory_used_mib"] = 39000;
  busy["gpus"][0]["processes"] = json::array({{{"pid", 999}, {"used_memory_mib", 39000}}});
  write_machine(busy);
  std::string out = temp / "seen";
  auto waiter = start({"--wait", "--poll-interval", "50ms", "--min-memory", "8G", "--", "sh", "-c",
                       "echo $CUDA_VISIBLE_DEVICES > " + out}, "waiter");
  ASSERT_TRUE(waiting("waiter"));
  EXPECT_NE(access(out.c_str(), F_OK), 0) << "must still be waiting";
  EXPECT_NE(read_file(temp / "waiter.err").find(" for 1 GPU (sh -c echo $CUDA_VISIBLE_DEVICE…): GPU0 1000 MiB free < 8.0 GiB\n"), std::string::npos)
      << read_file(temp / "waiter.err");
  write_machine(machine_of({gpu(0)}));
  EXPECT_EQ(waiter->wait(), 0);
  EXPECT_EQ(read_file(out), "0\n");
}

TEST_F(Claims, WaitTimesOutWith124SayingWhatIsMissing) {
  auto holder = start({"--gpu", "0,1,2,3", "--", "sleep", "30"}, "holder");
  ASSERT_FALSE(wait_for_claims(3).empty());
  auto result = with_gpu({"--wait", "--timeout", "300ms", "--poll-interval", "100ms", "true"});
  EXPECT_EQ(result.exit_code, 124);
  EXPECT_TRUE(contains_match(result.err, timed_out_pattern("no suitable GPU: need 1, 0 eligible\n"))) << result.err;
  EXPECT_NE(result.err.find("  GPU 3: claimed by pid " + std::to_string(holder->pid())), std::string::npos);
}

TEST_F(Claims, TimeoutWithoutWaitIsAUsageError) {
  auto result = with_gpu({"--timeout", "5", "true"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "with-gpu: error: --timeout needs --wait\n");
}

// A with-gpu run inside a with-gpu run (a sweep driver, a notebook started under
// with-gpu) uses its parent's GPUs: the inherited claim is its own.
TEST_F(Claims, ANestedLaunchUsesItsParentsClaimedGpu) {
  std::string inner = std::string(WITH_GPU_BINARY) + " --quiet -- sh -c 'echo \"inner $CUDA_VISIBLE_DEVICES\"'";
  auto result = with_gpu({"--quiet", "--gpu", "2", "--", "sh", "-c", inner});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "inner 2\n");
  auto waiting = with_gpu({"--quiet", "--gpu", "1", "--", "sh", "-c",
                           std::string(WITH_GPU_BINARY) + " --quiet --wait --timeout 2s --gpu 1 -- echo ran"});
  EXPECT_EQ(waiting.exit_code, 0) << waiting.err;
  EXPECT_EQ(waiting.out, "ran\n");
}

TEST_F(Claims, ANestedStatusShowsTheClaimAsItsOwnAndOthersStillWait) {
  auto holder = start({"--gpu", "0", "--", "sh", "-c",
                       std::string(WITH_GPU_BINARY) + " --status --json > " + (temp / "nested.json") + "; exec sleep 30"},
                      "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  json nested;
  for (int i = 0; i < 400 && nested.is_null(); ++i) {
    std::string text = read_file(temp / "nested.json");
    if (!text.empty()) nested = json::parse(text, nullptr, false);
    if (nested.is_discarded()) nested = json();
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_FALSE(nested.is_null());
  EXPECT_EQ(nested["gpus"][0]["claims"][0]["inherited"], true);
  // Outside the nested run, the claim is somebody else's, as always.
  EXPECT_EQ(json::parse(with_gpu({"--status", "--json"}).out)["gpus"][0]["claims"][0]["inherited"], false);
  EXPECT_EQ(with_gpu({"--gpu", "0", "true"}).exit_code, 4);
  holder->signal(SIGKILL);
}

}  // namespace
}  // namespace wg::test
