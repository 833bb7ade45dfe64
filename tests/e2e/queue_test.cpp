// The waiting line (issue 13): tickets in the lock directory, arrival order, GPUs kept
// for a waiter that needs several, exclusive waiters among sharers, dead tickets, the
// line in --status, and waiting without inotify.

#include <dirent.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "support/e2e_fixture.hpp"
#include "support/neighbour.hpp"

namespace wg::test {
namespace {

using namespace std::chrono_literals;

// The numbers a file lists one per line, in order.
std::vector<int> numbers_in(const std::string& text) {
  std::vector<int> numbers;
  std::istringstream lines(text);
  int number = 0;
  while (lines >> number) numbers.push_back(number);
  return numbers;
}

// Pairs (i, j) with i before j in `order` but j < i: launches served out of arrival order.
int inversions(const std::vector<int>& order) {
  int count = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    for (std::size_t j = i + 1; j < order.size(); ++j) count += order[j] < order[i];
  }
  return count;
}

class Queue : public E2E {
 protected:
  Queue() { write_machine(machine_of({gpu(0), gpu(1), gpu(2), gpu(3)})); }

  // A waiter with --wait ARGS that appends NAME to `served` when it runs, then runs the
  // shell command THEN.
  std::unique_ptr<BackgroundProcess> waiter(const std::string& name, std::vector<std::string> args,
                                            const std::string& then = "true") const {
    args.insert(args.begin(), "--wait");
    for (const std::string word :
         {std::string("--"), std::string("sh"), std::string("-c"), "echo " + name + " >> " + served + "; " + then}) {
      args.push_back(word);
    }
    return start(args, name);
  }

  // Until `name` has said it waits and its ticket is in line, so arrival order is known.
  void in_line(const std::string& name, std::size_t waiters) const {
    ASSERT_TRUE(waiting(name)) << read_file(temp / (name + ".err"));
    for (int i = 0; i < 400 && status()["waiters"].size() < waiters; ++i) std::this_thread::sleep_for(25ms);
    ASSERT_EQ(status()["waiters"].size(), waiters);
  }

  json status() const { return json::parse(with_gpu({"--status", "--json"}).out); }

  std::vector<std::string> tickets() const {
    std::vector<std::string> names;
    if (DIR* dir = opendir((lock_dir + "/queue").c_str())) {
      while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') names.push_back(entry->d_name);
      }
      closedir(dir);
    }
    return names;
  }

  std::string served = temp / "served";
};

TEST_F(Queue, EqualRequestsAreServedInArrivalOrder) {
  write_machine(machine_of({gpu(0)}));
  auto holder = start({"--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  std::vector<std::unique_ptr<BackgroundProcess>> waiters;
  for (int i = 1; i <= 20; ++i) {
    waiters.push_back(waiter(std::to_string(i), {}, "sleep 0.02"));
    in_line(std::to_string(i), waiters.size());
  }
  holder->signal(SIGKILL);
  holder->wait();
  for (auto& one : waiters) EXPECT_EQ(one->wait(), 0);
  auto order = numbers_in(read_file(served));
  ASSERT_EQ(order.size(), 20u);
  EXPECT_EQ(inversions(order), 0) << read_file(served);
  EXPECT_EQ(tickets(), std::vector<std::string>{});
}

TEST_F(Queue, AWaiterForTwoGpusKeepsAReleasedOneAndIsNotOvertakenByLaterOneGpuWaiters) {
  std::string short_go = temp / "short-go", big_go = temp / "big-go";
  auto short_job = start({"--gpu", "0", "--", "sh", "-c", shell_wait_for(short_go)}, "short");
  std::vector<std::unique_ptr<BackgroundProcess>> long_jobs;
  for (int index = 1; index <= 3; ++index) {
    long_jobs.push_back(start({"--gpu", std::to_string(index), "--", "sleep", "60"}, "long" + std::to_string(index)));
    ASSERT_FALSE(wait_for_claims(index).empty());
  }
  auto big = waiter("big", {"--min-gpus", "2"}, shell_wait_for(big_go));
  in_line("big", 1);
  std::vector<std::unique_ptr<BackgroundProcess>> small;
  for (int i = 1; i <= 4; ++i) {
    small.push_back(waiter(std::to_string(i), {}));
    in_line(std::to_string(i), small.size() + 1);
  }
  go_ahead(short_go);
  EXPECT_EQ(short_job->wait(), 0);
  // GPU 0 is free and kept for the 2-GPU waiter: the later ones wait, a launch without
  // --wait does not take it, and the waiter is told.
  ASSERT_TRUE(eventually([&] { return contains(read_file(temp / "big.err"), "1st in line (GPU 0 reserved for you)"); }))
      << read_file(temp / "big.err");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(read_file(served), "");
  auto now = with_gpu({"--", "true"});
  EXPECT_EQ(now.exit_code, 4) << now.err;
  EXPECT_TRUE(contains(now.err, "GPU 0: reserved for pid " + std::to_string(big->pid()) + " (root), 1st in line"))
      << now.err;
  // One more GPU released: the 2-GPU waiter starts with it and the kept one; the others
  // still wait, for GPUs that are still held.
  long_jobs[0]->signal(SIGKILL);
  long_jobs[0]->wait();
  ASSERT_TRUE(eventually([&] { return contains(read_file(temp / "big.err"), "CUDA_VISIBLE_DEVICES=0,1;"); }))
      << read_file(temp / "big.err");
  EXPECT_TRUE(eventually([&] { return read_file(served) == "big\n"; })) << read_file(served);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(read_file(served), "big\n");  // the others still wait: GPUs 2 and 3 are held
  go_ahead(big_go);
  EXPECT_EQ(big->wait(), 0);
  for (int index = 1; index <= 2; ++index) {
    long_jobs[index]->signal(SIGKILL);
    long_jobs[index]->wait();
  }
  for (auto& one : small) EXPECT_EQ(one->wait(), 0);
  EXPECT_EQ(read_file(served).substr(0, 4), "big\n");
}

TEST_F(Queue, AnExclusiveWaiterIsServedWhileSharersKeepComing) {
  write_machine(machine_of({gpu(0)}));
  auto first = start({"--share", "--", "sleep", "60"}, "first");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto alone = waiter("alone", {}, "sleep 0.2");
  in_line("alone", 1);
  // A new sharer does not join the GPU the exclusive waiter is queued for.
  auto join = with_gpu({"--share", "--", "true"});
  EXPECT_EQ(join.exit_code, 4) << join.err;
  EXPECT_TRUE(contains(join.err, "reserved for pid " + std::to_string(alone->pid()))) << join.err;
  auto later = waiter("later", {"--share"});
  in_line("later", 2);
  first->signal(SIGKILL);
  first->wait();
  EXPECT_EQ(alone->wait(), 0);
  EXPECT_EQ(later->wait(), 0);
  EXPECT_EQ(read_file(served), "alone\nlater\n");
}

TEST_F(Queue, AKilledWaitersTicketIsIgnoredAndRemoved) {
  write_machine(machine_of({gpu(0)}));
  auto holder = start({"--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto doomed = waiter("doomed", {});
  in_line("doomed", 1);
  auto next = waiter("next", {});
  in_line("next", 2);
  std::string doomed_ticket = status()["waiters"][0]["pid"].dump();
  doomed->signal(SIGKILL);
  doomed->wait();
  // The dead ticket stays as a file until someone looks: then it is not in line, and gone.
  auto line = status()["waiters"];
  ASSERT_EQ(line.size(), 1u);
  EXPECT_EQ(line[0]["pid"], next->pid());
  EXPECT_EQ(line[0]["place"], 1);
  EXPECT_EQ(tickets().size(), 1u);
  holder->signal(SIGKILL);
  holder->wait();
  EXPECT_EQ(next->wait(), 0);
  EXPECT_EQ(read_file(served), "next\n");
  EXPECT_EQ(tickets(), std::vector<std::string>{});
}

TEST_F(Queue, AWaiterWhoseTicketWasDeletedTakesItsPlaceAgain) {
  write_machine(machine_of({gpu(0)}));
  auto holder = start({"--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto first = waiter("first", {});
  in_line("first", 1);
  auto arrived = status()["waiters"][0]["since"];
  std::string removal = "rm -rf " + lock_dir + "/queue";
  ASSERT_EQ(system(removal.c_str()), 0);
  ASSERT_TRUE(eventually([&] { return status()["waiters"].size() == 1; }));
  EXPECT_EQ(status()["waiters"][0]["pid"], first->pid());
  EXPECT_EQ(status()["waiters"][0]["since"], arrived);
  auto later = with_gpu({"--", "true"});
  EXPECT_EQ(later.exit_code, 4);
  EXPECT_TRUE(contains(later.err, "reserved for pid " + std::to_string(first->pid()))) << later.err;
  holder->signal(SIGKILL);
  holder->wait();
  EXPECT_EQ(first->wait(), 0);
}

// The holder's memory frees a moment after its lock: the older waiter, whose threshold that
// memory fails, keeps the GPU meanwhile instead of losing it to a younger launch.
TEST_F(Queue, AReleasedGpuWhoseMemoryLagsStaysWithTheOlderWaiter) {
  json busy = gpu(0);
  busy["memory_used_mib"] = 30000;
  busy["processes"] = json::array({{{"pid", 4242}, {"used_memory_mib", 30000}}});
  write_machine(machine_of({busy}));
  auto holder = start({"--min-memory", "0", "--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto picky = waiter("picky", {"--min-memory", "20G"});
  in_line("picky", 1);
  auto any = waiter("any", {"--min-memory", "0"});
  in_line("any", 2);
  holder->signal(SIGKILL);
  holder->wait();
  std::this_thread::sleep_for(300ms);  // the driver still reports the holder's memory
  write_machine(machine_of({gpu(0)}));
  EXPECT_EQ(picky->wait(), 0);
  EXPECT_EQ(any->wait(), 0);
  EXPECT_EQ(read_file(served), "picky\nany\n");
}

// Ctrl-Z or SIGSTOP on a waiter: it cannot take what it keeps, so it keeps nothing until it
// runs again, and keeps its place.
TEST_F(Queue, AStoppedWaiterKeepsNothingAndKeepsItsPlace) {
  write_machine(machine_of({gpu(0)}));
  auto holder = start({"--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto stopped = waiter("stopped", {});
  in_line("stopped", 1);
  stopped->signal(SIGSTOP);
  ASSERT_TRUE(eventually([&] { return status()["waiters"][0]["stopped"] == true; }));
  auto line = status()["waiters"];
  ASSERT_EQ(line.size(), 1u);
  EXPECT_EQ(line[0]["usable_gpus"], json::array());
  holder->signal(SIGKILL);
  holder->wait();
  EXPECT_EQ(probe({}), "0|PCI_BUS_ID");  // the free GPU is not kept for the stopped waiter
  stopped->signal(SIGCONT);
  EXPECT_EQ(stopped->wait(), 0);
  EXPECT_EQ(read_file(served), "stopped\n");
}

TEST_F(Queue, StatusListsTheWaitersInOrderWithWhatTheyNeed) {
  auto holder = start({"--gpu", "0,1,2,3", "--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(3).empty());
  auto two = waiter("two", {"--min-gpus", "2"});
  in_line("two", 1);
  auto one = waiter("one", {"--share", "--gpu-type", "A100"});
  in_line("one", 2);
  auto line = status()["waiters"];
  EXPECT_EQ(line[0]["place"], 1);
  EXPECT_EQ(line[0]["pid"], two->pid());
  EXPECT_EQ(line[0]["user"], "root");
  EXPECT_EQ(line[0]["gpus_needed"], 2);
  EXPECT_EQ(line[0]["claim"], "exclusive");
  EXPECT_EQ(line[0]["usable_gpus"], json::array({0, 1, 2, 3}));
  EXPECT_TRUE(contains(line[0]["command"].get<std::string>(), "echo two >> "));
  EXPECT_GE(line[0]["waited_s"].get<double>(), 0.0);
  EXPECT_EQ(line[1]["pid"], one->pid());
  EXPECT_EQ(line[1]["claim"], "shared");
  auto text = with_gpu({"--status"}).out;
  EXPECT_TRUE(contains(text, "waiting: 2 launches in line\n  1st  pid " + std::to_string(two->pid())));
  EXPECT_TRUE(contains(text, "2 GPUs (of GPU 0,1,2,3)")) << text;
  EXPECT_TRUE(contains(text, "2nd  pid " + std::to_string(one->pid()))) << text;
  EXPECT_TRUE(contains(text, "1 GPU shared (of GPU 0,1,2,3)")) << text;
  EXPECT_TRUE(contains(read_file(temp / "one.err"), "), 2nd in line: ")) << read_file(temp / "one.err");
  two->signal(SIGTERM);
  one->signal(SIGTERM);
  two->wait();
  one->wait();
  EXPECT_TRUE(status()["waiters"].empty());
}

TEST_F(Queue, AWaiterOnlyAnotherModelCanUseDoesNotHoldBackAYoungerLaunch) {
  json h100 = gpu(1);
  h100["name"] = "NVIDIA H100 80GB HBM3";
  write_machine(machine_of({gpu(0), h100}));
  auto holder = start({"--gpu", "0", "--", "sleep", "60"}, "holder");
  ASSERT_FALSE(wait_for_claims(0).empty());
  auto a100 = waiter("a100", {"--gpu-type", "A100", "--strict"});
  in_line("a100", 1);
  // GPU 1 is of no use to the waiter: a launch that arrives later takes it at once.
  EXPECT_EQ(probe({}), "1|PCI_BUS_ID");
  holder->signal(SIGKILL);
  holder->wait();
  EXPECT_EQ(a100->wait(), 0);
}

// Point 7: waiters that cannot have an inotify instance look at the claims and tickets
// every few milliseconds (never the driver), say so once, and keep the order.
TEST_F(Queue, WaitersWithoutInotifyStillGetTheGpuInOrder) {
  auto alice = ensure_neighbour("wg-alice");
  if (!alice.user) GTEST_SKIP() << "needs another user to run out of inotify instances: " << alice.reason;
  SharedBinaries shared("with-gpu-queue-");
  std::string world = make_world_dir("with-gpu-queue-world-");
  ASSERT_TRUE(shared.ok() && !world.empty());
  std::string binary = shared.publish(WITH_GPU_BINARY, "with-gpu");
  std::string double_library = shared.publish(NVML_DOUBLE, "libnvidia-ml-double.so");
  json machine = machine_of({gpu(0)});
  std::ofstream(world + "/machine.json") << machine.dump();
  Env env = {{"PATH", "/usr/bin:/bin"}, {"WITH_GPU_NVML_LIBRARY", double_library},
             {"NVML_DOUBLE_MACHINE", world + "/machine.json"}, {"WITH_GPU_LOCK_DIR", world + "/locks"},
             {"WITH_GPU_SYSTEM_CONFIG", world + "/none.toml"}};
  // A process of wg-alice's takes every inotify instance the kernel allows her.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t hog = fork();
  if (hog == 0) {
    close(ready[0]);
    if (!alice.user->become()) _exit(1);
    int taken = 0;
    while (inotify_init1(IN_CLOEXEC) >= 0) ++taken;
    (void)!write(ready[1], &taken, sizeof taken);
    pause();
    _exit(0);
  }
  close(ready[1]);
  int taken = 0;
  ASSERT_EQ(read(ready[0], &taken, sizeof taken), static_cast<ssize_t>(sizeof taken));
  close(ready[0]);
  EXPECT_GT(taken, 0);
  Spawned holder(alice.user->command({binary, "--", "sleep", "60"}), env, world + "/holder.out", world + "/holder.err");
  ASSERT_TRUE(eventually([&] { return !json::parse(run_process({binary, "--status", "--json"}, env).out)["gpus"][0]["claims"].empty(); }));
  std::vector<std::unique_ptr<Spawned>> waiters;
  for (int i = 1; i <= 5; ++i) {
    std::string name = world + "/w" + std::to_string(i);
    waiters.push_back(std::make_unique<Spawned>(
        alice.user->command({binary, "--wait", "--", "sh", "-c", "echo " + std::to_string(i) + " >> " + world + "/served"}),
        env, name + ".out", name + ".err"));
    ASSERT_TRUE(eventually([&] {
      return json::parse(run_process({binary, "--status", "--json"}, env).out)["waiters"].size() == std::size_t(i);
    })) << read_file(name + ".err");
  }
  holder.signal(SIGKILL);
  for (auto& one : waiters) EXPECT_EQ(one->wait_for(20s), 0);
  EXPECT_EQ(numbers_in(read_file(world + "/served")), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(contains(read_file(world + "/w1.err"),
                       "with-gpu: note: no inotify instance left for this user (fs.inotify.max_user_instances); "
                       "looking at the claims every few milliseconds instead\n"))
      << read_file(world + "/w1.err");
  kill(hog, SIGKILL);
  waitpid(hog, nullptr, 0);
  std::string cleanup = "rm -rf " + world;
  (void)!system(cleanup.c_str());
}

}  // namespace
}  // namespace wg::test
