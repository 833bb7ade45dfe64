#include "os/inotify_watch.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "unit/temp_dir.hpp"

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

TEST(InotifyWatch, WithoutTheDirectoryItStillSleepsUntilTheDeadline) {
  test::TempDir dir;
  InotifyWatch watch(dir / "missing");
  EXPECT_EQ(watch.wait_until(soon(50ms)).kind, Wake::deadline);
}

}  // namespace
}  // namespace wg
