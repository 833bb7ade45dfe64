#include "os/inotify_watch.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "support/temp_dir.hpp"

namespace wg {
namespace {

using namespace std::chrono_literals;

auto soon(std::chrono::milliseconds delay) { return std::chrono::steady_clock::now() + delay; }

TEST(InotifyWatch, ClosingALockFileWakesIt) {
  test::TempDir dir;
  InotifyWatch watch(dir.path());
  close(open((dir / "gpu-abc.lock").c_str(), O_RDWR | O_CREAT, 0666));
  EXPECT_EQ(watch.wait_until(soon(10s)).kind, Wake::claims_changed);
}

TEST(InotifyWatch, ARemovedDirectoryWakesItAndItsSuccessorIsWatched) {
  test::TempDir dir;
  std::string locks = dir / "locks";
  ASSERT_EQ(mkdir(locks.c_str(), 0777), 0);
  InotifyWatch watch(locks);
  ASSERT_EQ(rmdir(locks.c_str()), 0);
  EXPECT_EQ(watch.wait_until(soon(10s)).kind, Wake::claims_changed);
  ASSERT_EQ(mkdir(locks.c_str(), 0777), 0);  // as the next claim attempt does
  EXPECT_EQ(watch.wait_until(soon(50ms)).kind, Wake::deadline);
  close(open((locks + "/gpu-abc.lock").c_str(), O_RDWR | O_CREAT, 0666));
  EXPECT_EQ(watch.wait_until(soon(10s)).kind, Wake::claims_changed);
}

TEST(InotifyWatch, OtherFilesDoNotWakeIt) {
  test::TempDir dir;
  InotifyWatch watch(dir.path());
  std::ofstream(dir / "notes.txt") << "x";
  auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(watch.wait_until(soon(150ms)).kind, Wake::deadline);
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 150ms);
}

TEST(InotifyWatch, ReportsSigintAndRestoresTheSignalMask) {
  test::TempDir dir;
  {
    InotifyWatch watch(dir.path());
    raise(SIGINT);  // blocked while the watch exists, so it waits in the signalfd
    WakeEvent event = watch.wait_until(soon(10s));
    EXPECT_EQ(event.kind, Wake::signal);
    EXPECT_EQ(event.signal, SIGINT);
  }
  sigset_t mask;
  sigprocmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGINT));
  EXPECT_FALSE(sigismember(&mask, SIGTERM));
}

TEST(InotifyWatch, RunsADriverCallToTheEndOnAnotherThread) {
  test::TempDir dir;
  InotifyWatch watch(dir.path());
  auto caller = std::this_thread::get_id();
  auto ran_on = std::make_shared<std::thread::id>(caller);
  EXPECT_EQ(watch.run_until([ran_on] { *ran_on = std::this_thread::get_id(); }, soon(10s)).kind, Wake::done);
  EXPECT_NE(*ran_on, caller);
}

// A call that blocks until the test lets it go, through a pipe the call owns, and says
// through another that it has begun.
struct BlockedCall {
  BlockedCall() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    read_end = std::make_shared<UniqueFd>(fds[0]);
    write_end = UniqueFd(fds[1]);
    EXPECT_EQ(pipe(fds), 0);
    began_read = UniqueFd(fds[0]);
    began_write = std::make_shared<UniqueFd>(fds[1]);
  }
  std::function<void()> work() const {
    return [fd = read_end, began = began_write] {
      (void)!write(began->get(), "b", 1);
      char byte;
      (void)!read(fd->get(), &byte, 1);
    };
  }
  // Until the call has begun (up to 10 s); false when it has not.
  bool began() const {
    pollfd ready{began_read.get(), POLLIN, 0};
    return poll(&ready, 1, 10'000) == 1;
  }
  std::shared_ptr<UniqueFd> read_end;
  UniqueFd write_end;
  UniqueFd began_read;
  std::shared_ptr<UniqueFd> began_write;
};

TEST(InotifyWatch, TheDeadlineEndsTheWaitForAHungDriverCall) {
  test::TempDir dir;
  InotifyWatch watch(dir.path());
  BlockedCall call;
  auto begin = std::chrono::steady_clock::now();
  EXPECT_EQ(watch.run_until(call.work(), soon(100ms)).kind, Wake::deadline);
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
  EXPECT_EQ(write(call.write_end.get(), "x", 1), 1);  // the abandoned call ends on its own
}

TEST(InotifyWatch, ASignalEndsTheWaitForAHungDriverCall) {
  test::TempDir dir;
  InotifyWatch watch(dir.path());
  BlockedCall call;
  bool began = false;
  std::thread interrupter([&] {
    began = call.began();     // the signal comes while the call hangs
    kill(getpid(), SIGTERM);  // blocked in every thread: it waits in the signalfd
  });
  WakeEvent event = watch.run_until(call.work(), std::chrono::steady_clock::time_point::max());
  interrupter.join();
  EXPECT_TRUE(began) << "the driver call never began";
  EXPECT_EQ(event.kind, Wake::signal);
  EXPECT_EQ(event.signal, SIGTERM);
  EXPECT_EQ(write(call.write_end.get(), "x", 1), 1);
}

TEST(InotifyWatch, WithoutTheDirectoryItStillSleepsUntilTheDeadline) {
  test::TempDir dir;
  InotifyWatch watch(dir / "missing");
  EXPECT_EQ(watch.wait_until(soon(50ms)).kind, Wake::deadline);
}

}  // namespace
}  // namespace wg
