#include "webhook/connection_policy.h"

#include <gtest/gtest.h>

namespace bgpcomm::webhook {
namespace {

using std::chrono::milliseconds;

ConnectionLimits Limits() {
  return ConnectionLimits{.handshake_timeout = milliseconds(3000),
                          .request_timeout = milliseconds(2000),
                          .write_timeout = milliseconds(1500),
                          .idle_timeout = milliseconds(4000),
                          .linger_timeout = milliseconds(500),
                          .max_connections = 3};
}

const ConnectionClock::time_point kStart{std::chrono::seconds(1000)};

std::vector<std::uint64_t> Ids(const std::vector<ConnectionEnd>& ends) {
  std::vector<std::uint64_t> ids;
  for (const auto& end : ends) ids.push_back(end.id);
  return ids;
}

TEST(PhaseDeadline, EachPhaseHasItsTotalTimeAndHandlingNone) {
  auto limits = Limits();
  EXPECT_EQ(PhaseDeadline(Phase::kHandshake, kStart, limits), kStart + milliseconds(3000));
  EXPECT_EQ(PhaseDeadline(Phase::kReading, kStart, limits), kStart + milliseconds(2000));
  EXPECT_EQ(PhaseDeadline(Phase::kWriting, kStart, limits), kStart + milliseconds(1500));
  EXPECT_EQ(PhaseDeadline(Phase::kIdle, kStart, limits), kStart + milliseconds(4000));
  EXPECT_EQ(PhaseDeadline(Phase::kClosing, kStart, limits), kStart + milliseconds(500));
  EXPECT_EQ(PhaseDeadline(Phase::kHandling, kStart, limits), ConnectionClock::time_point::max());
}

TEST(PhaseName, NamesEveryPhase) {
  EXPECT_EQ(PhaseName(Phase::kHandshake), "handshake");
  EXPECT_EQ(PhaseName(Phase::kIdle), "idle");
  EXPECT_EQ(PhaseName(Phase::kReading), "reading");
  EXPECT_EQ(PhaseName(Phase::kHandling), "handling");
  EXPECT_EQ(PhaseName(Phase::kWriting), "writing");
  EXPECT_EQ(PhaseName(Phase::kClosing), "closing");
}

TEST(ConnectionTable, AHandshakeExpiresAtItsDeadlineNotBefore) {
  ConnectionTable table(Limits());
  table.Add(1, kStart);
  EXPECT_EQ(table.PhaseOf(1), Phase::kHandshake);
  EXPECT_TRUE(table.TakeExpired(kStart + milliseconds(2999)).empty());
  auto expired = table.TakeExpired(kStart + milliseconds(3000));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, 1u);
  EXPECT_EQ(expired[0].phase, Phase::kHandshake);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.PhaseOf(1), std::nullopt);
}

// A trickling client moves nothing: the request deadline counts from the first byte of
// the request, whatever arrives after it.
TEST(ConnectionTable, ARequestDeadlineIsTotalFromItsFirstByte) {
  ConnectionTable table(Limits());
  table.Add(1, kStart);
  table.Enter(1, Phase::kIdle, kStart + milliseconds(100));
  table.Enter(1, Phase::kReading, kStart + milliseconds(200));
  // Bytes keep arriving; the server reports no new phase for them.
  EXPECT_TRUE(table.TakeExpired(kStart + milliseconds(2199)).empty());
  auto expired = table.TakeExpired(kStart + milliseconds(2200));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].phase, Phase::kReading);
}

TEST(ConnectionTable, EachPhaseStartsItsOwnClock) {
  ConnectionTable table(Limits());
  table.Add(1, kStart);
  table.Enter(1, Phase::kReading, kStart + milliseconds(2900));  // handshake done late
  EXPECT_TRUE(table.TakeExpired(kStart + milliseconds(4000)).empty());
  table.Enter(1, Phase::kHandling, kStart + milliseconds(4000));
  // A handler's time is not the connection's to bound.
  EXPECT_TRUE(table.TakeExpired(kStart + std::chrono::hours(1)).empty());
  table.Enter(1, Phase::kWriting, kStart + std::chrono::hours(1));
  EXPECT_EQ(table.TakeExpired(kStart + std::chrono::hours(1) + milliseconds(1500)).size(), 1u);
}

TEST(ConnectionTable, ExpiredComeEarliestDeadlineFirst) {
  ConnectionTable table(Limits());
  table.Add(1, kStart);  // handshake: +3000
  table.Add(2, kStart);
  table.Enter(2, Phase::kClosing, kStart + milliseconds(10));  // +510
  table.Add(3, kStart);
  table.Enter(3, Phase::kReading, kStart);  // +2000
  table.Add(4, kStart);
  table.Enter(4, Phase::kIdle, kStart);  // +4000, not yet
  EXPECT_EQ(Ids(table.TakeExpired(kStart + milliseconds(3500))),
            (std::vector<std::uint64_t>{2, 3, 1}));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.PhaseOf(4), Phase::kIdle);
}

TEST(ConnectionTable, EnterAndRemoveOfAnEndedConnectionDoNothing) {
  ConnectionTable table(Limits());
  table.Add(1, kStart);
  table.Remove(1);
  table.Enter(1, Phase::kIdle, kStart);
  table.Remove(1);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.PhaseOf(1), std::nullopt);
}

TEST(ConnectionTable, FullAtMaxConnections) {
  ConnectionTable table(Limits());
  table.Add(1, kStart);
  table.Add(2, kStart);
  EXPECT_FALSE(table.full());
  table.Add(3, kStart);
  EXPECT_TRUE(table.full());
  table.Remove(2);
  EXPECT_FALSE(table.full());
}

TEST(ConnectionTable, TheOldestIdleConnectionGivesWayFirst) {
  ConnectionTable table(Limits());
  table.Add(1, kStart);  // an older handshake: still not the first to go
  table.Add(2, kStart);
  table.Enter(2, Phase::kIdle, kStart + milliseconds(300));
  table.Add(3, kStart);
  table.Enter(3, Phase::kIdle, kStart + milliseconds(200));  // idle longest
  auto victim = table.TakeVictim();
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->id, 3u);
  EXPECT_EQ(victim->phase, Phase::kIdle);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_FALSE(table.full());
  victim = table.TakeVictim();
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->id, 2u);
}

TEST(ConnectionTable, AClosingConnectionGivesWayBeforeAnIdleOne) {
  ConnectionTable table(Limits());
  table.Add(1, kStart);
  table.Enter(1, Phase::kIdle, kStart);
  table.Add(2, kStart);
  table.Enter(2, Phase::kClosing, kStart + milliseconds(900));
  EXPECT_EQ(table.TakeVictim()->id, 2u);
}

TEST(ConnectionTable, WithoutIdleOnesTheEarliestHandshakeOrRequestGivesWay) {
  ConnectionTable table(Limits());
  table.Add(1, kStart + milliseconds(500));  // handshake since +500
  table.Add(2, kStart);
  table.Enter(2, Phase::kReading, kStart + milliseconds(100));  // reading since +100
  table.Add(3, kStart);
  table.Enter(3, Phase::kHandling, kStart);  // busy: never
  auto victim = table.TakeVictim();
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->id, 2u);
  EXPECT_EQ(victim->phase, Phase::kReading);
  EXPECT_EQ(table.TakeVictim()->id, 1u);
  EXPECT_EQ(table.TakeVictim(), std::nullopt);
  EXPECT_EQ(table.PhaseOf(3), Phase::kHandling);
}

TEST(ConnectionTable, ConnectionsWithARequestInHandNeverGiveWay) {
  ConnectionTable table(Limits());
  table.Add(1, kStart);
  table.Enter(1, Phase::kHandling, kStart);
  table.Add(2, kStart);
  table.Enter(2, Phase::kWriting, kStart);
  EXPECT_EQ(table.TakeVictim(), std::nullopt);
  EXPECT_EQ(table.size(), 2u);
}

TEST(ConnectionTable, TiesGoToTheLowestId) {
  ConnectionTable table(Limits());
  for (std::uint64_t id : {7u, 3u, 5u}) {
    table.Add(id, kStart);
    table.Enter(id, Phase::kIdle, kStart);
  }
  EXPECT_EQ(table.TakeVictim()->id, 3u);
  EXPECT_EQ(table.TakeVictim()->id, 5u);
  EXPECT_EQ(table.TakeVictim()->id, 7u);
}

}  // namespace
}  // namespace bgpcomm::webhook
