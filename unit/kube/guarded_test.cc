#include "kube/guarded.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "unit/kube/test_support.h"

namespace bgpcomm::kube {
namespace {

using testing::FakeSleeper;

TEST(RunGuardedTest, ReportsWhatTheBodyThrowsAndRunsItAgain) {
  FakeSleeper sleeper;
  std::stop_source stop;
  int runs = 0;
  int failures = RunGuarded(
      "test", stop.get_token(),
      [&](std::stop_token) {
        if (++runs < 3) throw std::runtime_error("boom");
      },
      sleeper, std::chrono::milliseconds(250));
  EXPECT_EQ(failures, 2);
  EXPECT_EQ(runs, 3);  // the third run returned normally
  EXPECT_EQ(sleeper.Delays(), (std::vector<Duration>{std::chrono::milliseconds(250),
                                                     std::chrono::milliseconds(250)}));
}

TEST(RunGuardedTest, NonStandardExceptionsAreCaughtAndStopEndsTheRetries) {
  FakeSleeper sleeper;
  std::stop_source stop;
  int runs = 0;
  int failures = RunGuarded(
      "test", stop.get_token(),
      [&](std::stop_token) {
        ++runs;
        stop.request_stop();
        throw 42;
      },
      sleeper);
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace bgpcomm::kube
