#include "kube/status_coalescer.h"

#include <gtest/gtest.h>

namespace bgpcomm::kube {
namespace {

using namespace std::chrono_literals;
using TimePoint = SteadyTime;
using Duration = SteadyDuration;

constexpr Duration kState = 5s;     // a session state change
constexpr Duration kPrefixes = 30s;  // only a prefix count

// A fake clock: the core takes the time as an argument.
struct FakeClock {
  TimePoint now{};
  void Advance(Duration d) { now += d; }
};

// Performs every due write (all succeed) and returns how many there were.
std::size_t Flush(StatusCoalescer& c, TimePoint now, std::vector<StatusCoalescer::Write>* log = nullptr) {
  auto due = c.Due(now);
  for (const auto& w : due) {
    c.Done(w.key, true);
    if (log) log->push_back(w);
  }
  return due.size();
}

TEST(StatusCoalescerTest, FirstWriteIsImmediateThenAtMostOncePerInterval) {
  StatusCoalescer c;
  FakeClock clock;
  c.Set("s", "Active", kState, clock.now);
  EXPECT_EQ(Flush(c, clock.now), 1u);
  c.Set("s", "Established", kState, clock.now);
  EXPECT_EQ(Flush(c, clock.now), 0u);  // within the interval: coalesced
  ASSERT_TRUE(c.NextDue());
  EXPECT_EQ(*c.NextDue(), clock.now + kState);
  clock.Advance(kState);
  std::vector<StatusCoalescer::Write> log;
  EXPECT_EQ(Flush(c, clock.now, &log), 1u);
  EXPECT_EQ(log.at(0).body, "Established");  // the latest state
  EXPECT_FALSE(c.NextDue());
}

TEST(StatusCoalescerTest, FlappingHundredTimesInTenSecondsWritesAtMostThreeTimes) {
  // 100 flaps in 10 s (a change every 50 ms), the writer flushing whenever something is
  // due: writes <= 1 + 10 s / 5 s, and the last one holds the final state.
  StatusCoalescer c;
  FakeClock clock;
  std::vector<StatusCoalescer::Write> log;
  for (int i = 0; i < 200; ++i) {
    c.Set("s", i % 2 ? "Established" : "Active", kState, clock.now);
    Flush(c, clock.now, &log);
    clock.Advance(50ms);
  }
  c.Set("s", "Established", kState, clock.now);
  std::size_t during = log.size();
  EXPECT_LE(during, 3u);
  clock.Advance(kState);
  Flush(c, clock.now, &log);
  EXPECT_LE(log.size(), 4u);
  EXPECT_EQ(log.back().body, "Established");
  EXPECT_EQ(c.pending(), 0u);
}

TEST(StatusCoalescerTest, TheShortestIntervalAskedSinceTheLastWriteApplies) {
  StatusCoalescer c;
  FakeClock clock;
  c.Set("s", "a", kState, clock.now);
  Flush(c, clock.now);
  c.Set("s", "b", kPrefixes, clock.now);
  EXPECT_EQ(*c.NextDue(), clock.now + kPrefixes);
  c.Set("s", "c", kState, clock.now);
  EXPECT_EQ(*c.NextDue(), clock.now + kState);
}

TEST(StatusCoalescerTest, UnchangedStateIsNotWritten) {
  StatusCoalescer c;
  FakeClock clock;
  c.Set("s", "a", kState, clock.now);
  Flush(c, clock.now);
  clock.Advance(1h);
  c.Set("s", "a", kState, clock.now);
  EXPECT_EQ(Flush(c, clock.now), 0u);
  EXPECT_FALSE(c.NextDue());
}

TEST(StatusCoalescerTest, FailedWriteIsRetriedAfterTheInterval) {
  StatusCoalescer c;
  FakeClock clock;
  c.Set("s", "a", kState, clock.now);
  auto due = c.Due(clock.now);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(c.Due(clock.now).empty());  // in flight: not handed out twice
  c.Done("s", false);
  EXPECT_TRUE(c.Due(clock.now + 1s).empty());
  EXPECT_EQ(c.Due(clock.now + kState).size(), 1u);
}

TEST(StatusCoalescerTest, ChangeDuringAWriteIsWrittenNext) {
  StatusCoalescer c;
  FakeClock clock;
  c.Set("s", "a", kState, clock.now);
  auto due = c.Due(clock.now);
  c.Set("s", "b", kState, clock.now);
  c.Done("s", true);
  EXPECT_EQ(c.pending(), 1u);
  std::vector<StatusCoalescer::Write> log;
  Flush(c, clock.now + kState, &log);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].body, "b");
}

TEST(StatusCoalescerTest, RemoveDeletesWhatWasWrittenAndForgetsWhatWasNot) {
  StatusCoalescer c;
  FakeClock clock;
  c.Set("never", "a", kState, clock.now);
  c.Remove("never", kState, clock.now);
  EXPECT_TRUE(c.Keys().empty());
  c.Set("s", "a", kState, clock.now);
  Flush(c, clock.now);
  clock.Advance(kState);
  c.Remove("s", kState, clock.now);
  std::vector<StatusCoalescer::Write> log;
  Flush(c, clock.now, &log);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_FALSE(log[0].body.has_value());
  EXPECT_TRUE(c.Keys().empty());
}

TEST(StatusCoalescerTest, ExistingObjectsAreRewrittenOrDeleted) {
  StatusCoalescer c;
  FakeClock clock;
  c.Existing("stale");
  c.Existing("kept");
  c.Set("kept", "a", kState, clock.now);
  c.Remove("stale", kState, clock.now);
  std::vector<StatusCoalescer::Write> log;
  Flush(c, clock.now, &log);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].key, "kept");
  EXPECT_EQ(log[0].body, "a");
  EXPECT_EQ(log[1].key, "stale");
  EXPECT_FALSE(log[1].body);
  EXPECT_EQ(c.Keys(), std::vector<std::string>{"kept"});
}

}  // namespace
}  // namespace bgpcomm::kube
