#include "speaker/session_fsm.h"

#include <gtest/gtest.h>

namespace bgpcomm::speaker {
namespace {

using std::chrono::seconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

SessionConfig Config() {
  SessionConfig c;
  c.local_asn = Asn(64512);
  c.peer_asn = Asn(64513);
  c.router_id = 0xc6336401;  // 198.51.100.1
  c.hold_time_seconds = 90;
  c.families = {kIpv4Unicast, kIpv6Unicast};
  c.connect_retry_initial = seconds(1);
  c.connect_retry_max = seconds(8);
  return c;
}

OpenMessage PeerOpen(std::uint32_t asn = 64513, std::uint16_t hold = 30) {
  OpenMessage o;
  o.asn = Asn(asn);
  o.hold_time_seconds = hold;
  o.bgp_identifier = 0xc6336402;
  o.capabilities.multiprotocol = {kIpv4Unicast};
  o.capabilities.four_octet_as = true;
  o.capabilities.route_refresh = true;
  return o;
}

template <typename T>
std::vector<T> All(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const Action& a : actions) {
    if (const T* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

template <typename T>
bool Has(const std::vector<Action>& actions) {
  return !All<T>(actions).empty();
}

std::optional<TimePoint> ArmedAt(const std::vector<Action>& actions, Timer timer) {
  std::optional<TimePoint> at;
  for (const Action& a : actions) {
    if (const auto* arm = std::get_if<action::ArmTimer>(&a); arm && arm->timer == timer) {
      at = arm->deadline;
    }
    if (const auto* d = std::get_if<action::DisarmTimer>(&a); d && d->timer == timer) {
      at.reset();
    }
  }
  return at;
}

std::optional<NotificationMessage> SentNotification(const std::vector<Action>& actions) {
  for (const action::Send& s : All<action::Send>(actions)) {
    if (const auto* n = std::get_if<NotificationMessage>(&s.message)) return *n;
  }
  return std::nullopt;
}

// Drives a fresh FSM to `target` and returns it.
SessionFsm Reach(SessionState target, SessionConfig config = Config(),
                 OpenMessage open = PeerOpen()) {
  SessionFsm fsm(std::move(config));
  fsm.Handle(event::ManualStart{}, kT0);
  if (target == SessionState::kConnect) return fsm;
  fsm.Handle(event::TcpConnected{}, kT0);
  if (target == SessionState::kOpenSent) return fsm;
  fsm.Handle(event::Received{open}, kT0);
  if (target == SessionState::kOpenConfirm) return fsm;
  fsm.Handle(event::Received{KeepaliveMessage{}}, kT0);
  return fsm;
}

TEST(SessionFsmTest, ManualStartConnectsAndBoundsTheAttempt) {
  SessionFsm fsm(Config());
  auto actions = fsm.Handle(event::ManualStart{}, kT0);
  EXPECT_EQ(fsm.state(), SessionState::kConnect);
  EXPECT_TRUE(Has<action::Connect>(actions));
  EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), kT0 + seconds(8));
}

TEST(SessionFsmTest, IdleIgnoresTimersUntilStarted) {
  SessionFsm fsm(Config());
  EXPECT_TRUE(fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, kT0).empty());
  EXPECT_EQ(fsm.state(), SessionState::kIdle);
}

TEST(SessionFsmTest, TcpConnectedSendsOpenWithCapabilities) {
  SessionFsm fsm = Reach(SessionState::kConnect);
  auto actions = fsm.Handle(event::TcpConnected{}, kT0);
  EXPECT_EQ(fsm.state(), SessionState::kOpenSent);
  auto sent = All<action::Send>(actions);
  ASSERT_EQ(sent.size(), 1u);
  const auto& open = std::get<OpenMessage>(sent[0].message);
  EXPECT_EQ(open.asn, Asn(64512));
  EXPECT_EQ(open.hold_time_seconds, 90);
  EXPECT_EQ(open.bgp_identifier, 0xc6336401u);
  EXPECT_TRUE(open.capabilities.four_octet_as);
  EXPECT_TRUE(open.capabilities.route_refresh);
  EXPECT_EQ(open.capabilities.multiprotocol, (std::vector{kIpv4Unicast, kIpv6Unicast}));
  EXPECT_EQ(ArmedAt(actions, Timer::kHold), kT0 + std::chrono::minutes(4));
  EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), std::nullopt);
}

TEST(SessionFsmTest, ConnectFailureBacksOffExponentiallyWithCap) {
  SessionFsm fsm = Reach(SessionState::kConnect);
  std::vector<TimePoint::duration> waits;
  TimePoint now = kT0;
  for (int i = 0; i < 6; ++i) {
    auto failed = fsm.Handle(event::TcpFails{}, now);
    EXPECT_EQ(fsm.state(), SessionState::kActive);
    EXPECT_TRUE(Has<action::Close>(failed));
    auto deadline = ArmedAt(failed, Timer::kConnectRetry);
    ASSERT_TRUE(deadline);
    waits.push_back(*deadline - now);
    now = *deadline;
    auto retry = fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, now);
    EXPECT_EQ(fsm.state(), SessionState::kConnect);
    EXPECT_TRUE(Has<action::Connect>(retry));
  }
  EXPECT_EQ(waits, (std::vector<TimePoint::duration>{seconds(1), seconds(2), seconds(4), seconds(8),
                                                     seconds(8), seconds(8)}));
}

TEST(SessionFsmTest, ConnectTimeoutGoesActive) {
  SessionFsm fsm = Reach(SessionState::kConnect);
  auto actions = fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, kT0 + seconds(8));
  EXPECT_EQ(fsm.state(), SessionState::kActive);
  EXPECT_TRUE(Has<action::Close>(actions));
  EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), kT0 + seconds(9));
}

TEST(SessionFsmTest, UnansweredAttemptsAreCountedUntilAnAnswer) {
  SessionFsm fsm = Reach(SessionState::kConnect);
  TimePoint now = kT0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    now += seconds(8);  // the ConnectRetry time passes without SYN-ACK or RST
    auto actions = fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, now);
    auto unanswered = All<action::ConnectUnanswered>(actions);
    ASSERT_EQ(unanswered.size(), 1u);
    EXPECT_EQ(unanswered[0].consecutive, attempt);
    auto retry = ArmedAt(actions, Timer::kConnectRetry);
    ASSERT_TRUE(retry);
    now = *retry;
    auto again = fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, now);
    EXPECT_TRUE(Has<action::Connect>(again));
    // The next attempt is bounded by the ConnectRetry time again, never longer.
    EXPECT_EQ(ArmedAt(again, Timer::kConnectRetry), now + seconds(8));
  }
  // A refusal is an answer: the count starts over.
  fsm.Handle(event::TcpFails{}, now);
  fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, now + seconds(8));
  auto actions = fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, now + seconds(16));
  ASSERT_EQ(All<action::ConnectUnanswered>(actions).size(), 1u);
  EXPECT_EQ(All<action::ConnectUnanswered>(actions)[0].consecutive, 1);
}

TEST(SessionFsmTest, DynamicPeerAsn) {
  SessionConfig external = Config();
  external.peer_asn = Asn(0);
  external.peer_asn_mode = PeerAsnMode::kExternal;
  SessionFsm up = Reach(SessionState::kEstablished, external, PeerOpen(4200000001));
  EXPECT_EQ(up.state(), SessionState::kEstablished);
  EXPECT_EQ(up.negotiated()->peer_asn, Asn(4200000001));
  SessionFsm same = Reach(SessionState::kOpenSent, external);
  auto actions = same.Handle(event::Received{PeerOpen(64512)}, kT0);  // our own AS
  EXPECT_EQ(SentNotification(actions), (NotificationMessage{2, 2, {}}));

  SessionConfig internal = Config();
  internal.peer_asn_mode = PeerAsnMode::kInternal;
  EXPECT_EQ(Reach(SessionState::kEstablished, internal, PeerOpen(64512)).state(),
            SessionState::kEstablished);
  SessionFsm other = Reach(SessionState::kOpenSent, internal);
  EXPECT_EQ(SentNotification(other.Handle(event::Received{PeerOpen(64513)}, kT0)),
            (NotificationMessage{2, 2, {}}));
}

TEST(SessionFsmTest, ConnectionWhileActiveIsClosed) {
  SessionFsm fsm = Reach(SessionState::kConnect);
  fsm.Handle(event::TcpFails{}, kT0);
  auto actions = fsm.Handle(event::TcpConnected{}, kT0);
  EXPECT_EQ(fsm.state(), SessionState::kActive);
  EXPECT_TRUE(Has<action::Close>(actions));
}

TEST(SessionFsmTest, OpenNegotiatesHoldKeepaliveAndFamilies) {
  SessionFsm fsm = Reach(SessionState::kOpenSent);
  auto actions = fsm.Handle(event::Received{PeerOpen(64513, 30)}, kT0);
  EXPECT_EQ(fsm.state(), SessionState::kOpenConfirm);
  auto sent = All<action::Send>(actions);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<KeepaliveMessage>(sent[0].message));
  ASSERT_TRUE(fsm.negotiated());
  EXPECT_EQ(fsm.negotiated()->hold_time_seconds, 30);
  EXPECT_EQ(fsm.negotiated()->keepalive, seconds(10));
  EXPECT_TRUE(fsm.negotiated()->four_octet_as);
  EXPECT_EQ(fsm.negotiated()->families, std::vector{kIpv4Unicast});
  EXPECT_EQ(ArmedAt(actions, Timer::kHold), kT0 + seconds(30));
  EXPECT_EQ(ArmedAt(actions, Timer::kKeepalive), kT0 + seconds(10));
  EXPECT_TRUE(fsm.codec().four_octet_as);
}

TEST(SessionFsmTest, OurSmallerHoldTimeWins) {
  SessionFsm fsm = Reach(SessionState::kOpenSent);
  fsm.Handle(event::Received{PeerOpen(64513, 240)}, kT0);
  EXPECT_EQ(fsm.negotiated()->hold_time_seconds, 90);
  EXPECT_EQ(fsm.negotiated()->keepalive, seconds(30));
}

TEST(SessionFsmTest, HoldTimeZeroDisablesHoldAndKeepalive) {
  SessionFsm fsm = Reach(SessionState::kOpenSent);
  auto actions = fsm.Handle(event::Received{PeerOpen(64513, 0)}, kT0);
  EXPECT_EQ(fsm.state(), SessionState::kOpenConfirm);
  EXPECT_EQ(ArmedAt(actions, Timer::kHold), std::nullopt);
  EXPECT_EQ(ArmedAt(actions, Timer::kKeepalive), std::nullopt);
  EXPECT_TRUE(Has<action::DisarmTimer>(actions));
  auto up = fsm.Handle(event::Received{KeepaliveMessage{}}, kT0);
  EXPECT_EQ(ArmedAt(up, Timer::kHold), std::nullopt);
}

TEST(SessionFsmTest, PeerWithoutMultiprotocolIsIpv4Only) {
  OpenMessage open = PeerOpen();
  open.capabilities.multiprotocol.clear();
  SessionFsm fsm = Reach(SessionState::kOpenConfirm, Config(), open);
  EXPECT_EQ(fsm.negotiated()->families, std::vector{kIpv4Unicast});
}

struct BadOpenCase {
  std::string name;
  OpenMessage open;
  SessionConfig config;
  std::uint8_t code;
  std::uint8_t subcode;
};

std::vector<BadOpenCase> BadOpens() {
  std::vector<BadOpenCase> cases;
  cases.push_back({"WrongAs", PeerOpen(64999), Config(), 2, 2});
  cases.push_back({"HoldOne", PeerOpen(64513, 1), Config(), 2, 6});
  cases.push_back({"HoldTwo", PeerOpen(64513, 2), Config(), 2, 6});
  OpenMessage zero_id = PeerOpen();
  zero_id.bgp_identifier = 0;
  cases.push_back({"IdentifierZero", zero_id, Config(), 2, 3});
  SessionConfig ibgp = Config();
  ibgp.peer_asn = Asn(64512);
  OpenMessage same_id = PeerOpen(64512);
  same_id.bgp_identifier = ibgp.router_id;
  cases.push_back({"IbgpSameIdentifier", same_id, ibgp, 2, 3});
  // A 4-octet peer that did not send capability 65 shows up as AS_TRANS.
  SessionConfig four = Config();
  four.peer_asn = Asn(4200000001);
  cases.push_back({"FourOctetPeerWithoutCapability", PeerOpen(23456), four, 2, 2});
  OpenMessage v6_only = PeerOpen();
  v6_only.capabilities.multiprotocol = {kIpv6Unicast};
  SessionConfig v4_only = Config();
  v4_only.families = {kIpv4Unicast};
  cases.push_back({"NoCommonFamily", v6_only, v4_only, 2, 7});
  return cases;
}

class BadOpenTest : public ::testing::TestWithParam<BadOpenCase> {};

TEST_P(BadOpenTest, SendsNotificationClosesAndRestartsLater) {
  const BadOpenCase& c = GetParam();
  SessionFsm fsm = Reach(SessionState::kOpenSent, c.config);
  auto actions = fsm.Handle(event::Received{c.open}, kT0);
  EXPECT_EQ(fsm.state(), SessionState::kIdle);
  auto n = SentNotification(actions);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, c.code);
  EXPECT_EQ(n->subcode, c.subcode);
  EXPECT_TRUE(Has<action::Close>(actions));
  EXPECT_FALSE(Has<action::SessionDown>(actions));
  EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), kT0 + seconds(1));
  EXPECT_EQ(ArmedAt(actions, Timer::kHold), std::nullopt);
  auto restart = fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, kT0 + seconds(1));
  EXPECT_EQ(fsm.state(), SessionState::kConnect);
  EXPECT_TRUE(Has<action::Connect>(restart));
}

INSTANTIATE_TEST_SUITE_P(Opens, BadOpenTest, ::testing::ValuesIn(BadOpens()),
                         [](const auto& info) { return info.param.name; });

TEST(SessionFsmTest, FourOctetAsnsBothSides) {
  SessionConfig c = Config();
  c.local_asn = Asn(4200000000);
  c.peer_asn = Asn(4200000001);
  SessionFsm fsm(c);
  EXPECT_EQ(fsm.MakeOpen().asn, Asn(4200000000));
  fsm = Reach(SessionState::kEstablished, c, PeerOpen(4200000001));
  EXPECT_EQ(fsm.state(), SessionState::kEstablished);
  EXPECT_EQ(fsm.negotiated()->peer_asn, Asn(4200000001));
}

TEST(SessionFsmTest, OpenSentNotificationUnexpectedMessageAndHoldExpiry) {
  {
    SessionFsm fsm = Reach(SessionState::kOpenSent);
    auto actions = fsm.Handle(event::Received{NotificationMessage{6, 2, {}}}, kT0);
    EXPECT_EQ(fsm.state(), SessionState::kIdle);
    EXPECT_FALSE(SentNotification(actions));
  }
  {
    SessionFsm fsm = Reach(SessionState::kOpenSent);
    auto actions = fsm.Handle(event::Received{KeepaliveMessage{}}, kT0);
    EXPECT_EQ(fsm.state(), SessionState::kIdle);
    EXPECT_EQ(SentNotification(actions), (NotificationMessage{5, 1, {}}));
  }
  {
    SessionFsm fsm = Reach(SessionState::kOpenSent);
    auto actions = fsm.Handle(event::TimerExpired{Timer::kHold}, kT0 + std::chrono::minutes(4));
    EXPECT_EQ(fsm.state(), SessionState::kIdle);
    EXPECT_EQ(SentNotification(actions), (NotificationMessage{4, 0, {}}));
  }
  {
    SessionFsm fsm = Reach(SessionState::kOpenSent);
    auto actions = fsm.Handle(event::TcpFails{}, kT0);
    EXPECT_EQ(fsm.state(), SessionState::kActive);
    EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), kT0 + seconds(1));
  }
}

TEST(SessionFsmTest, MalformedMessageSendsTheCodecsNotification) {
  DecodeError e{NotificationMessage{1, 2, {0x00, 0x05}}, "bad length"};
  for (SessionState s :
       {SessionState::kOpenSent, SessionState::kOpenConfirm, SessionState::kEstablished}) {
    SessionFsm fsm = Reach(s);
    auto actions = fsm.Handle(event::Malformed{e}, kT0);
    EXPECT_EQ(fsm.state(), SessionState::kIdle) << StateName(s);
    EXPECT_EQ(SentNotification(actions), e.notification) << StateName(s);
    EXPECT_EQ(Has<action::SessionDown>(actions), s == SessionState::kEstablished);
  }
}

TEST(SessionFsmTest, OpenConfirmKeepaliveEstablishes) {
  SessionFsm fsm = Reach(SessionState::kOpenConfirm);
  auto actions = fsm.Handle(event::Received{KeepaliveMessage{}}, kT0 + seconds(3));
  EXPECT_EQ(fsm.state(), SessionState::kEstablished);
  auto up = All<action::SessionUp>(actions);
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].negotiated.families, std::vector{kIpv4Unicast});
  EXPECT_EQ(ArmedAt(actions, Timer::kHold), kT0 + seconds(33));
}

TEST(SessionFsmTest, OpenConfirmTimersAndErrors) {
  {
    SessionFsm fsm = Reach(SessionState::kOpenConfirm);
    auto actions = fsm.Handle(event::TimerExpired{Timer::kKeepalive}, kT0 + seconds(10));
    EXPECT_EQ(fsm.state(), SessionState::kOpenConfirm);
    ASSERT_EQ(All<action::Send>(actions).size(), 1u);
    EXPECT_EQ(ArmedAt(actions, Timer::kKeepalive), kT0 + seconds(20));
  }
  {
    SessionFsm fsm = Reach(SessionState::kOpenConfirm);
    auto actions = fsm.Handle(event::TimerExpired{Timer::kHold}, kT0 + seconds(30));
    EXPECT_EQ(SentNotification(actions), (NotificationMessage{4, 0, {}}));
    EXPECT_EQ(fsm.state(), SessionState::kIdle);
  }
  {
    SessionFsm fsm = Reach(SessionState::kOpenConfirm);
    auto actions = fsm.Handle(event::Received{PeerOpen()}, kT0);
    EXPECT_EQ(SentNotification(actions), (NotificationMessage{5, 2, {}}));
  }
  {
    SessionFsm fsm = Reach(SessionState::kOpenConfirm);
    auto actions = fsm.Handle(event::Received{NotificationMessage{6, 4, {}}}, kT0);
    EXPECT_FALSE(SentNotification(actions));
    EXPECT_EQ(fsm.state(), SessionState::kIdle);
  }
  {
    SessionFsm fsm = Reach(SessionState::kOpenConfirm);
    fsm.Handle(event::TcpFails{}, kT0);
    EXPECT_EQ(fsm.state(), SessionState::kIdle);
  }
}

TEST(SessionFsmTest, EstablishedRestartsHoldOnKeepaliveAndUpdate) {
  SessionFsm fsm = Reach(SessionState::kEstablished);
  auto k = fsm.Handle(event::Received{KeepaliveMessage{}}, kT0 + seconds(20));
  EXPECT_EQ(ArmedAt(k, Timer::kHold), kT0 + seconds(50));
  auto u = fsm.Handle(event::Received{UpdateMessage{}}, kT0 + seconds(40));
  EXPECT_EQ(ArmedAt(u, Timer::kHold), kT0 + seconds(70));
  EXPECT_EQ(fsm.state(), SessionState::kEstablished);
}

TEST(SessionFsmTest, EstablishedSendsKeepalivesOnTheKeepaliveTimer) {
  SessionFsm fsm = Reach(SessionState::kEstablished);
  auto actions = fsm.Handle(event::TimerExpired{Timer::kKeepalive}, kT0 + seconds(10));
  auto sent = All<action::Send>(actions);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<KeepaliveMessage>(sent[0].message));
  EXPECT_EQ(ArmedAt(actions, Timer::kKeepalive), kT0 + seconds(20));
}

TEST(SessionFsmTest, EstablishedTreatAsWithdrawKeepsTheSession) {
  SessionFsm fsm = Reach(SessionState::kEstablished);
  UpdateMessage update;
  update.attribute_errors.push_back({AttributeAction::kTreatAsWithdraw, attr::kCommunities, 5,
                                     "length 3 is not a multiple of 4"});
  auto actions = fsm.Handle(event::Received{update}, kT0);
  EXPECT_EQ(fsm.state(), SessionState::kEstablished);
  EXPECT_FALSE(SentNotification(actions));
  ASSERT_EQ(All<action::Note>(actions).size(), 1u);
  EXPECT_EQ(All<action::Note>(actions)[0].message,
            "treat-as-withdraw for attribute 8 in received UPDATE: length 3 is not a multiple "
            "of 4");
}

TEST(SessionFsmTest, EstablishedRouteRefreshResendsNegotiatedFamiliesOnly) {
  SessionFsm fsm = Reach(SessionState::kEstablished);
  auto v4 = fsm.Handle(event::Received{RouteRefreshMessage{kIpv4Unicast, 0}}, kT0);
  ASSERT_EQ(All<action::ResendTable>(v4).size(), 1u);
  auto v6 = fsm.Handle(event::Received{RouteRefreshMessage{kIpv6Unicast, 0}}, kT0);
  EXPECT_TRUE(All<action::ResendTable>(v6).empty());
  EXPECT_EQ(fsm.state(), SessionState::kEstablished);
}

TEST(SessionFsmTest, EstablishedErrorsGoDownAndBackOff) {
  {
    SessionFsm fsm = Reach(SessionState::kEstablished);
    auto actions = fsm.Handle(event::TimerExpired{Timer::kHold}, kT0 + seconds(30));
    EXPECT_EQ(SentNotification(actions), (NotificationMessage{4, 0, {}}));
    EXPECT_TRUE(Has<action::SessionDown>(actions));
    EXPECT_EQ(fsm.state(), SessionState::kIdle);
    EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), kT0 + seconds(31));
    EXPECT_FALSE(fsm.negotiated());
  }
  {
    SessionFsm fsm = Reach(SessionState::kEstablished);
    auto actions = fsm.Handle(event::Received{PeerOpen()}, kT0);
    EXPECT_EQ(SentNotification(actions), (NotificationMessage{5, 3, {}}));
  }
  {
    SessionFsm fsm = Reach(SessionState::kEstablished);
    auto actions = fsm.Handle(event::Received{NotificationMessage{6, 2, {}}}, kT0);
    EXPECT_FALSE(SentNotification(actions));
    EXPECT_TRUE(Has<action::SessionDown>(actions));
  }
  {
    SessionFsm fsm = Reach(SessionState::kEstablished);
    auto actions = fsm.Handle(event::TcpFails{}, kT0);
    EXPECT_TRUE(Has<action::SessionDown>(actions));
    EXPECT_EQ(fsm.state(), SessionState::kIdle);
  }
}

// The reconnect backoff resets only once a session has stayed Established for a hold time
// (30 s negotiated here): a peer that sends Cease right after each OPEN exchange (prefix
// limit, admin shutdown) gets a doubling delay, not the full table every second.
TEST(SessionFsmTest, TheBackoffResetsOnlyAfterAHoldTimeEstablished) {
  SessionFsm fsm = Reach(SessionState::kConnect);
  fsm.Handle(event::TcpFails{}, kT0);
  fsm.Handle(event::TcpFails{}, kT0);
  EXPECT_EQ(fsm.backoff(), seconds(2));
  TimePoint now = kT0;
  auto establish = [&] {
    fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, now);
    fsm.Handle(event::TcpConnected{}, now);
    fsm.Handle(event::Received{PeerOpen()}, now);
    fsm.Handle(event::Received{KeepaliveMessage{}}, now);
    ASSERT_EQ(fsm.state(), SessionState::kEstablished);
  };
  const NotificationMessage cease{6, 2, {}};
  // Established, then Cease one second later: the delay keeps doubling.
  std::vector<std::chrono::nanoseconds> delays;
  for (int i = 0; i < 4; ++i) {
    establish();
    now += seconds(1);
    auto actions = fsm.Handle(event::Received{cease}, now);
    ASSERT_TRUE(ArmedAt(actions, Timer::kConnectRetry));
    delays.push_back(*ArmedAt(actions, Timer::kConnectRetry) - now);
    now = *ArmedAt(actions, Timer::kConnectRetry);
  }
  EXPECT_EQ(delays, (std::vector<std::chrono::nanoseconds>{seconds(2), seconds(4), seconds(8),
                                                          seconds(8)}));
  // Up for 29 s: still not stable.
  establish();
  now += seconds(29);
  auto early = fsm.Handle(event::Received{cease}, now);
  EXPECT_EQ(ArmedAt(early, Timer::kConnectRetry), now + seconds(8));
  now += seconds(8);
  // Up for a full hold time (30 s): the next attempt comes after the first backoff.
  establish();
  now += seconds(30);
  auto stable = fsm.Handle(event::Received{cease}, now);
  EXPECT_EQ(ArmedAt(stable, Timer::kConnectRetry), now + seconds(1));
  EXPECT_EQ(fsm.backoff(), seconds(2));
}

TEST(SessionFsmTest, ManualStopSendsCeaseAndStaysIdle) {
  SessionFsm fsm = Reach(SessionState::kEstablished);
  auto actions = fsm.Handle(event::ManualStop{}, kT0);
  EXPECT_EQ(SentNotification(actions), (NotificationMessage{6, 2, {}}));
  EXPECT_TRUE(Has<action::SessionDown>(actions));
  EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), std::nullopt);
  EXPECT_EQ(fsm.state(), SessionState::kIdle);
  EXPECT_TRUE(fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, kT0).empty());
  SessionFsm connecting = Reach(SessionState::kConnect);
  auto stop = connecting.Handle(event::ManualStop{}, kT0);
  EXPECT_FALSE(SentNotification(stop));
  EXPECT_TRUE(Has<action::Close>(stop));
}

TEST(SessionFsmTest, PeerThatDoesNotReadIsDroppedWithOutOfResources) {
  for (SessionState state :
       {SessionState::kOpenSent, SessionState::kOpenConfirm, SessionState::kEstablished}) {
    SessionFsm fsm = Reach(state);
    auto actions = fsm.Handle(event::SendBlocked{"65536 bytes queued, limit 65536"}, kT0);
    // RFC 4486 §4: Cease / Out of Resources, then the connection closes and retries later.
    EXPECT_EQ(SentNotification(actions), (NotificationMessage{6, 8, {}})) << StateName(state);
    auto closes = All<action::Close>(actions);
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_EQ(closes[0].reason, "peer does not read: 65536 bytes queued, limit 65536");
    EXPECT_EQ(Has<action::SessionDown>(actions), state == SessionState::kEstablished);
    EXPECT_EQ(fsm.state(), SessionState::kIdle);
    EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), kT0 + seconds(1));
  }
  // Without a connection there is nothing to block: ignored.
  SessionFsm connecting = Reach(SessionState::kConnect);
  EXPECT_TRUE(connecting.Handle(event::SendBlocked{"x"}, kT0).empty());
  EXPECT_EQ(connecting.state(), SessionState::kConnect);
}

std::optional<GracefulRestart> SentGracefulRestart(const std::vector<Action>& actions) {
  for (const action::Send& s : All<action::Send>(actions)) {
    if (const auto* o = std::get_if<OpenMessage>(&s.message)) {
      return o->capabilities.graceful_restart;
    }
  }
  return std::nullopt;
}

SessionConfig GracefulConfig(bool restarted) {
  SessionConfig c = Config();
  c.graceful_restart = {.enabled = true, .restart_time_seconds = 120, .restarted = restarted};
  return c;
}

TEST(SessionFsmTest, GracefulRestartCapabilityAndRestartStateBit) {
  SessionFsm fsm(GracefulConfig(/*restarted=*/true));
  fsm.Handle(event::ManualStart{}, kT0);
  auto open = fsm.Handle(event::TcpConnected{}, kT0);
  // RFC 4724 §3: R after a restart, the restart time, every family with F.
  EXPECT_EQ(SentGracefulRestart(open),
            (GracefulRestart{.restart_state = true,
                             .notification = false,
                             .restart_time_seconds = 120,
                             .families = {{kIpv4Unicast, true}, {kIpv6Unicast, true}}}));
  OpenMessage peer = PeerOpen();
  peer.capabilities.graceful_restart = GracefulRestart{};  // a helper
  fsm.Handle(event::Received{peer}, kT0);
  auto up = fsm.Handle(event::Received{KeepaliveMessage{}}, kT0);
  ASSERT_EQ(All<action::SessionUp>(up).size(), 1u);
  EXPECT_TRUE(All<action::SessionUp>(up)[0].negotiated.graceful_restart);
  // Once up, a later connection no longer claims a restart.
  fsm.Handle(event::TcpFails{}, kT0);
  fsm.Handle(event::TimerExpired{Timer::kConnectRetry}, kT0 + seconds(1));
  auto again = fsm.Handle(event::TcpConnected{}, kT0 + seconds(1));
  ASSERT_TRUE(SentGracefulRestart(again));
  EXPECT_FALSE(SentGracefulRestart(again)->restart_state);

  // Off (enableGracefulRestart false): no capability at all.
  SessionFsm plain(Config());
  plain.Handle(event::ManualStart{}, kT0);
  EXPECT_EQ(SentGracefulRestart(plain.Handle(event::TcpConnected{}, kT0)), std::nullopt);
  // A fresh start sets no R bit.
  SessionFsm fresh(GracefulConfig(/*restarted=*/false));
  fresh.Handle(event::ManualStart{}, kT0);
  EXPECT_FALSE(SentGracefulRestart(fresh.Handle(event::TcpConnected{}, kT0))->restart_state);
}

TEST(SessionFsmTest, StopForRestartLeavesRoutesOnlyWhenGracefulRestartWasNegotiated) {
  OpenMessage helper = PeerOpen();
  helper.capabilities.graceful_restart = GracefulRestart{};
  SessionFsm fsm = Reach(SessionState::kEstablished, GracefulConfig(false), helper);
  auto actions = fsm.Handle(event::ManualStop{.for_restart = true}, kT0);
  // RFC 4724 §4.2: the TCP session ends without a NOTIFICATION; the peer keeps the routes.
  EXPECT_FALSE(SentNotification(actions));
  EXPECT_TRUE(Has<action::Close>(actions));
  EXPECT_TRUE(Has<action::SessionDown>(actions));
  EXPECT_EQ(fsm.state(), SessionState::kIdle);
  EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), std::nullopt);

  // The peer did not advertise the capability: Cease as usual.
  SessionFsm no_helper = Reach(SessionState::kEstablished, GracefulConfig(false));
  EXPECT_FALSE(no_helper.negotiated()->graceful_restart);
  EXPECT_EQ(SentNotification(no_helper.Handle(event::ManualStop{.for_restart = true}, kT0)),
            (NotificationMessage{6, 2, {}}));
  // Not for a restart: Cease even with graceful restart.
  SessionFsm final_stop = Reach(SessionState::kEstablished, GracefulConfig(false), helper);
  EXPECT_EQ(SentNotification(final_stop.Handle(event::ManualStop{}, kT0)),
            (NotificationMessage{6, 2, {}}));
}

TEST(SessionFsmTest, BfdDownDropsTheSessionAtOnce) {
  SessionFsm fsm = Reach(SessionState::kEstablished);
  auto actions =
      fsm.Handle(event::BfdDown{"control detection time expired"}, kT0 + seconds(1));
  EXPECT_EQ(SentNotification(actions), (NotificationMessage{6, 10, {}}));  // RFC 9384
  auto down = All<action::SessionDown>(actions);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].reason, "BFD down: control detection time expired");
  EXPECT_EQ(fsm.state(), SessionState::kIdle);
  EXPECT_EQ(ArmedAt(actions, Timer::kConnectRetry), kT0 + seconds(2));
  SessionFsm idle(Config());
  EXPECT_TRUE(idle.Handle(event::BfdDown{"x"}, kT0).empty());
}

TEST(SessionFsmTest, StateNames) {
  EXPECT_EQ(StateName(SessionState::kOpenConfirm), "OpenConfirm");
  EXPECT_EQ(TimerName(Timer::kHold), "Hold");
}

}  // namespace
}  // namespace bgpcomm::speaker
