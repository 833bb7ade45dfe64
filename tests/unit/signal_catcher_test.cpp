#include "os/signal_catcher.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

namespace wg {
namespace {

bool blocked(int signal) {
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  return sigismember(&mask, signal) == 1;
}

TEST(SignalCatcher, TakesSigintAndSigtermAsEventsWhileItExists) {
  ASSERT_FALSE(blocked(SIGINT));
  ASSERT_FALSE(blocked(SIGTERM));
  {
    SignalCatcher catcher;
    ASSERT_GE(catcher.fd(), 0);
    EXPECT_TRUE(blocked(SIGINT));
    EXPECT_TRUE(blocked(SIGTERM));
    EXPECT_EQ(catcher.take(), 0);
    raise(SIGTERM);  // blocked: it waits in the signalfd instead of ending the test
    EXPECT_EQ(catcher.take(), SIGTERM);
    raise(SIGINT);
    EXPECT_EQ(catcher.take(), SIGINT);
    EXPECT_EQ(catcher.take(), 0);
  }
  EXPECT_FALSE(blocked(SIGINT));
  EXPECT_FALSE(blocked(SIGTERM));
}

TEST(SignalCatcher, RestoresTheMaskItFound) {
  sigset_t interrupt;
  sigset_t previous;
  sigemptyset(&interrupt);
  sigaddset(&interrupt, SIGINT);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &interrupt, &previous), 0);
  { SignalCatcher catcher; }
  EXPECT_TRUE(blocked(SIGINT));  // the caller's own block stays
  EXPECT_FALSE(blocked(SIGTERM));
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

}  // namespace
}  // namespace wg
