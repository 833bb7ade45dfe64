// Waiting that hands a GPU over as soon as its claim is released, and shared claims.
// Waiters here poll the driver only once a minute, so a waiter that starts at all
// within the test was woken by the release itself.

#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <thread>

#include "support/e2e_fixture.hpp"

namespace wg::test {
namespace {

using namespace std::chrono_literals;

class Waiting : public E2E {
 protected:
  Waiting() { write_machine(machine_of({gpu(0), gpu(1), gpu(2), gpu(3)})); }

  // What the lock directory (or its queue, `under` "/queue") holds.
  std::vector<std::string> lock_dir_entries(const std::string& under = "") const {
    std::vector<std::string> names;
    if (DIR* dir = opendir((lock_dir + under).c_str())) {
      while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') names.push_back(entry->d_name);
      }
      closedir(dir);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::vector<std::string> slow_waiter(const std::string& marker) const {
    return {"--wait", "--gpu", "0", "--poll-interval", "60s", "--", "touch", marker};
  }
};

TEST_F(Waiting, AWaiterStartsWhenTheHolderExits) {
  std::string go = temp / "go";
  auto holder = start({"--gpu", "0", "--", "sh", "-c", shell_wait_for(go)}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto waiter = start(slow_waiter(temp / "ran"), "waiter");
  ASSERT_TRUE(waiting("waiter"));
  EXPECT_FALSE(exists(temp / "ran"));
  go_ahead(go);
  EXPECT_EQ(holder->wait(), 0);
  EXPECT_EQ(waiter->wait(), 0);
  EXPECT_TRUE(exists(temp / "ran"));
}

TEST_F(Waiting, AWaiterStartsWhenTheHolderIsKilled) {
  auto holder = start({"--gpu", "0", "--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto waiter = start(slow_waiter(temp / "ran"), "waiter");
  ASSERT_TRUE(waiting("waiter"));
  holder->signal(SIGKILL);
  holder->wait();
  EXPECT_EQ(waiter->wait(), 0);
  EXPECT_TRUE(exists(temp / "ran"));
}

TEST_F(Waiting, TheTimeoutDoesNotWaitForThePoll) {
  auto holder = start({"--gpu", "0", "--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto begin = std::chrono::steady_clock::now();
  auto result = with_gpu({"--wait", "--gpu", "0", "--poll-interval", "60s", "--timeout", "500ms", "true"});
  auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_EQ(result.exit_code, 124);
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 30s);  // far below the 60 s poll: the deadline itself ended the wait
  EXPECT_TRUE(contains_match(result.err, timed_out_pattern("no suitable GPU: need 1, 0 eligible\n"))) << result.err;
}

TEST_F(Waiting, SigintAndSigtermWhileWaitingExitAtOnceLeavingNothing) {
  auto holder = start({"--gpu", "0,1,2,3", "--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(3).empty());
  auto before = lock_dir_entries();
  for (int signal : {SIGINT, SIGTERM}) {
    std::string name = "waiter" + std::to_string(signal);
    auto waiter = start({"--wait", "--min-gpus", "2", "--", "touch", temp / "ran"}, name);
    ASSERT_TRUE(waiting(name));
    waiter->signal(signal);
    EXPECT_EQ(waiter->wait(), 128 + signal);
    std::string expected = signal == SIGINT ? "interrupted" : "terminated";
    EXPECT_NE(read_file(temp / (name + ".err")).find("with-gpu: error: " + expected + " while waiting; nothing was claimed"),
              std::string::npos)
        << read_file(temp / (name + ".err"));
  }
  EXPECT_FALSE(exists(temp / "ran"));
  // The waiters took their places in line and left them; the queue directory stays.
  before.push_back("queue");
  EXPECT_EQ(lock_dir_entries(), before);
  EXPECT_EQ(lock_dir_entries("/queue"), std::vector<std::string>{});
  holder->signal(SIGKILL);
  holder->wait();
  auto status = json::parse(with_gpu({"--status", "--json"}).out);
  for (const auto& one : status["gpus"]) EXPECT_TRUE(one["claims"].empty());
}

TEST_F(Waiting, ACommandThatCannotRunEndsAWaitAtOnceClaimingNothing) {
  auto holder = start({"--gpu", "0,1,2,3", "--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(3).empty());
  auto before = lock_dir_entries();
  std::string not_executable = temp / "train.sh";
  std::ofstream(not_executable) << "#!/bin/sh\ntouch " << temp / "ran" << "\n";
  chmod(not_executable.c_str(), 0644);
  struct Case {
    std::string command;
    int exit_code;
    std::string err;
  };
  for (const Case& one : {Case{"pyhton", 127, "with-gpu: error: command not found: pyhton (check the name and PATH)\n"},
                          Case{not_executable, 126, "with-gpu: error: cannot execute " + not_executable +
                                                        ": Permission denied (check its permissions and format)\n"}}) {
    auto begin = std::chrono::steady_clock::now();
    auto result = with_gpu({"--wait", "--timeout", "10s", "--poll-interval", "60s", one.command, "train.py"});
    auto took = std::chrono::steady_clock::now() - begin;
    EXPECT_EQ(result.exit_code, one.exit_code) << result.err;
    EXPECT_EQ(result.err, one.err);
    EXPECT_LT(took, 3s);  // at once: not after a wait, a poll or the timeout
  }
  EXPECT_FALSE(exists(temp / "ran"));
  EXPECT_EQ(lock_dir_entries(), before);
  holder->signal(SIGKILL);
  holder->wait();
}

TEST_F(Waiting, TwoSharersRunTogetherAndStatusShowsBoth) {
  std::string a = temp / "a", b = temp / "b", done = temp / "done";
  // Each sharer waits until the other has started: both finishing proves they overlapped.
  // Both then run until the test has looked at the status.
  auto first = start({"--share", "--gpu", "0", "--", "sh", "-c",
                      "touch " + a + "; " + shell_wait_for(b) + "; " + shell_wait_for(done)}, "first");
  auto second = start({"--share", "--gpu", "0", "--", "sh", "-c",
                       "touch " + b + "; " + shell_wait_for(a) + "; " + shell_wait_for(done)}, "second");
  ASSERT_TRUE(appears(a));
  ASSERT_TRUE(appears(b));
  auto status = with_gpu({"--status"});
  EXPECT_NE(status.out.find("SHARED by pid "), std::string::npos) << status.out;
  auto parsed = json::parse(with_gpu({"--status", "--json"}).out);
  ASSERT_EQ(parsed["gpus"][0]["claims"].size(), 2u);
  EXPECT_EQ(parsed["gpus"][0]["claims"][0]["mode"], "shared");
  EXPECT_EQ(parsed["gpus"][0]["claims"][1]["mode"], "shared");
  go_ahead(done);
  EXPECT_EQ(first->wait(), 0);
  EXPECT_EQ(second->wait(), 0);
}

TEST_F(Waiting, AnExclusiveJobWaitsForEverySharer) {
  std::string go = temp / "go", second_go = temp / "second-go";
  auto first = start({"--share", "--gpu", "0", "--", "sh", "-c", shell_wait_for(go)}, "first");
  auto second = start({"--share", "--gpu", "0", "--", "sh", "-c", shell_wait_for(go) + "; " + shell_wait_for(second_go)},
                      "second");
  eventually([&] { return wait_for_claims(0).size() >= 2; });
  ASSERT_EQ(wait_for_claims(0).size(), 2u);
  auto exclusive = start(slow_waiter(temp / "ran"), "exclusive");
  ASSERT_TRUE(waiting("exclusive"));
  EXPECT_NE(read_file(temp / "exclusive.err").find("GPU0 shared by pid "), std::string::npos);
  go_ahead(go);
  EXPECT_EQ(first->wait(), 0);
  EXPECT_FALSE(exists(temp / "ran")) << "one sharer is still running";
  go_ahead(second_go);
  EXPECT_EQ(second->wait(), 0);
  EXPECT_EQ(exclusive->wait(), 0);
  EXPECT_TRUE(exists(temp / "ran"));
}

TEST_F(Waiting, ASharerWaitsForAnExclusiveJob) {
  std::string go = temp / "go";
  auto holder = start({"--gpu", "0", "--", "sh", "-c", shell_wait_for(go)}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto sharer = start({"--share", "--wait", "--gpu", "0", "--poll-interval", "60s", "--", "touch", temp / "ran"},
                      "sharer");
  ASSERT_TRUE(waiting("sharer"));
  EXPECT_FALSE(exists(temp / "ran"));
  go_ahead(go);
  EXPECT_EQ(holder->wait(), 0);
  EXPECT_EQ(sharer->wait(), 0);
  EXPECT_TRUE(exists(temp / "ran"));
}

TEST_F(Waiting, AHundredConcurrentWaitersOnFourGpusNeverOverlapAndAllFinish) {
  std::string log = temp / "log";
  std::string job = "echo \"$CUDA_VISIBLE_DEVICES start $(date +%s%N)\" >> " + log +
                    "; sleep 0.05; echo \"$CUDA_VISIBLE_DEVICES end $(date +%s%N)\" >> " + log;
  std::vector<std::unique_ptr<BackgroundProcess>> jobs;
  for (int i = 0; i < 100; ++i) {
    // The default 5 s poll: hand-offs come from released claims, not from polling.
    jobs.push_back(start({"--wait", "--quiet", "--", "sh", "-c", job}, "job" + std::to_string(i)));
  }
  for (auto& process : jobs) EXPECT_EQ(process->wait(), 0);

  std::map<std::string, std::vector<std::pair<long long, std::string>>> events;
  std::istringstream lines(read_file(log));
  std::string gpu_id, kind;
  long long stamp = 0;
  while (lines >> gpu_id >> kind >> stamp) events[gpu_id].push_back({stamp, kind});
  std::size_t total = 0;
  for (auto& [id, list] : events) {
    std::sort(list.begin(), list.end());
    for (std::size_t i = 0; i < list.size(); ++i) {
      EXPECT_EQ(list[i].second, i % 2 == 0 ? "start" : "end") << "GPU " << id << " had two exclusive holders";
    }
    total += list.size();
  }
  EXPECT_EQ(total, 200u);
  EXPECT_EQ(events.size(), 4u);
}

// The admin's per-user limit: the holder's user is this test's user, so a second launch
// is over a limit of one until the first one's claim ends.
TEST_F(Waiting, APerUserLimitRefusesOrHoldsALaunchUntilTheUsersClaimEnds) {
  std::ofstream(temp / "system.toml") << "[policy]\nmax_gpus_per_user = 1\n";
  env["WITH_GPU_SYSTEM_CONFIG"] = temp / "system.toml";
  std::string go = temp / "go";
  auto holder = start({"--gpu", "0", "--", "sh", "-c", shell_wait_for(go)}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  const passwd* me = getpwuid(getuid());
  ASSERT_NE(me, nullptr);
  std::string over = "the policy in " + (temp / "system.toml") + " allows 1 GPU per user at once; " + me->pw_name +
                     " already holds 1 (GPU 0) and this asks for 1";
  auto refused = with_gpu({"--", "touch", temp / "refused"});
  EXPECT_EQ(refused.exit_code, 4);
  EXPECT_EQ(refused.err, "with-gpu: error: " + over + "\n");
  EXPECT_FALSE(exists(temp / "refused"));
  auto waiter = start({"--wait", "--poll-interval", "60s", "--", "touch", temp / "ran"}, "waiter");
  ASSERT_TRUE(waiting("waiter"));
  EXPECT_NE(read_file(temp / "waiter.err").find(" for 1 GPU (touch " + (temp / "ran").substr(0, 25) + "…): " + over + "\n"), std::string::npos)
      << read_file(temp / "waiter.err");
  EXPECT_FALSE(exists(temp / "ran"));
  go_ahead(go);
  EXPECT_EQ(holder->wait(), 0);
  EXPECT_EQ(waiter->wait(), 0);
  EXPECT_TRUE(exists(temp / "ran"));
}

}  // namespace
}  // namespace wg::test
