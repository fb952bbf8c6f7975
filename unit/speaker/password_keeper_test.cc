// The passwordSecret rule on a fake clock: every failed read keeps the last good password,
// reads back off, and only a Secret that stays absent past the grace loses it.
#include "speaker/password_keeper.h"

#include <gtest/gtest.h>

namespace bgpcomm::speaker {
namespace {

using namespace std::chrono_literals;
using Kind = PasswordRead::Kind;

const PasswordKeeper::TimePoint kT0 = PasswordKeeper::TimePoint{} + 1h;

PasswordRead Good(const std::string& password) { return {Kind::kGood, password, {}}; }
PasswordRead Failed(const std::string& error) { return {Kind::kFailed, {}, error}; }
PasswordRead Absent(const std::string& error) { return {Kind::kAbsent, {}, error}; }

TEST(PasswordKeeperTest, EveryFailedReadKeepsTheLastGoodPasswordAndBacksOff) {
  PasswordKeeper keeper({.refresh = 30s, .retry_initial = 1s, .absent_grace = 5min});
  EXPECT_TRUE(keeper.ShouldRead("bgp-auth", kT0));
  keeper.Record("bgp-auth", Good("s3cret"), kT0);
  EXPECT_FALSE(keeper.ShouldRead("bgp-auth", kT0 + 29s));
  EXPECT_TRUE(keeper.ShouldRead("bgp-auth", kT0 + 30s));
  // 60 s of 429s (then 403s and 503s), a read each time one is due: the password stays
  // and the reads come after 1, 2, 4, 8, 16, 30, 30 ... s.
  auto now = kT0 + 30s;
  std::vector<std::chrono::nanoseconds> gaps;
  auto last = now;
  for (int reads = 0; now < kT0 + 30s + 10min; now += 100ms) {
    if (!keeper.ShouldRead("bgp-auth", now)) continue;
    if (reads > 0) gaps.push_back(now - last);
    last = now;
    const char* errors[] = {"HTTP 429 TooManyRequests", "HTTP 403 Forbidden",
                            "HTTP 503 ServiceUnavailable", "connection refused"};
    keeper.Record("bgp-auth", Failed(errors[reads++ % 4]), now);
    bool kept = false;
    auto password = keeper.Password("bgp-auth", now, &kept);
    ASSERT_TRUE(password) << password.error();
    EXPECT_EQ(*password, "s3cret");
    EXPECT_TRUE(kept);
  }
  ASSERT_GE(gaps.size(), 7u);
  EXPECT_EQ(std::vector(gaps.begin(), gaps.begin() + 7),
            (std::vector<std::chrono::nanoseconds>{1s, 2s, 4s, 8s, 16s, 30s, 30s}));
  // A good read starts over: the next failure waits 1 s again.
  keeper.Record("bgp-auth", Good("s3cret"), now);
  keeper.Record("bgp-auth", Failed("HTTP 429 TooManyRequests"), now);
  EXPECT_FALSE(keeper.ShouldRead("bgp-auth", now + 999ms));
  EXPECT_TRUE(keeper.ShouldRead("bgp-auth", now + 1s));
}

TEST(PasswordKeeperTest, ASecretAbsentPastTheGraceLosesItsPassword) {
  PasswordKeeper keeper({.refresh = 30s, .retry_initial = 1s, .absent_grace = 5min});
  keeper.Record("bgp-auth", Good("s3cret"), kT0);
  keeper.Record("bgp-auth", Absent("Secret metallb-system/bgp-auth not found"), kT0 + 10s);
  // Throttled reads in between do not end the absence, nor restart its clock.
  keeper.Record("bgp-auth", Failed("HTTP 429 TooManyRequests"), kT0 + 2min);
  EXPECT_EQ(keeper.Password("bgp-auth", kT0 + 10s + 5min - 1ms), "s3cret");
  auto dropped = keeper.Password("bgp-auth", kT0 + 10s + 5min);
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error(),
            "Secret metallb-system/bgp-auth not found (the last good password was dropped "
            "after 5m)");
  // Back (re-created, or the key repaired): used at once, and a later absence gets a new
  // grace.
  keeper.Record("bgp-auth", Good("rotated"), kT0 + 20min);
  EXPECT_EQ(keeper.Password("bgp-auth", kT0 + 20min), "rotated");
  keeper.Record("bgp-auth", Absent("Secret metallb-system/bgp-auth not found"), kT0 + 21min);
  EXPECT_EQ(keeper.Password("bgp-auth", kT0 + 25min), "rotated");
}

TEST(PasswordKeeperTest, WithoutALastGoodPasswordAnyFailureRefuses) {
  PasswordKeeper keeper;
  EXPECT_FALSE(keeper.Password("bgp-auth", kT0));
  keeper.Record("bgp-auth", Failed("Secret metallb-system/bgp-auth cannot be read: HTTP 429"),
                kT0);
  auto password = keeper.Password("bgp-auth", kT0);
  ASSERT_FALSE(password);
  EXPECT_EQ(password.error(), "Secret metallb-system/bgp-auth cannot be read: HTTP 429");
  keeper.Record("other", Absent("Secret metallb-system/other has no key password"), kT0);
  EXPECT_FALSE(keeper.Password("other", kT0));
}

}  // namespace
}  // namespace bgpcomm::speaker
