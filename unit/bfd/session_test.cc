#include "bfd/session.h"

#include <gtest/gtest.h>

namespace bgpcomm::bfd {
namespace {

using std::chrono::milliseconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

SessionConfig Config() {
  SessionConfig c;
  c.local_discriminator = 11;
  return c;  // 300 ms, 300 ms, 3: MetalLB's defaults
}

template <typename T>
std::vector<T> All(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const Action& a : actions) {
    if (const T* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

std::optional<TimePoint> ArmedAt(const std::vector<Action>& actions, Timer timer) {
  std::optional<TimePoint> at;
  for (const Action& a : actions) {
    if (const auto* arm = std::get_if<action::ArmTimer>(&a); arm && arm->timer == timer) {
      at = arm->deadline;
    }
    if (const auto* d = std::get_if<action::DisarmTimer>(&a); d && d->timer == timer) at.reset();
  }
  return at;
}

// What the peer (discriminator 22, 300 ms) sends in `state`.
ControlPacket Peer(State state, std::uint32_t your = 11) {
  ControlPacket p;
  p.state = state;
  p.detect_multiplier = 3;
  p.my_discriminator = 22;
  p.your_discriminator = state == State::kDown ? 0 : your;
  p.desired_min_tx_us = 300000;
  p.required_min_rx_us = 300000;
  return p;
}

Session Up() {
  Session s(Config());
  s.Handle(event::Start{}, kT0);
  s.Handle(event::Received{Peer(State::kDown)}, kT0);
  s.Handle(event::Received{Peer(State::kUp)}, kT0);
  return s;
}

TEST(BfdSessionTest, StartSendsDownAtTheSlowRateWithJitter) {
  Session s(Config());
  auto actions = s.Handle(event::Start{}, kT0);
  EXPECT_EQ(s.state(), State::kDown);
  auto sent = All<action::Send>(actions);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].packet.state, State::kDown);
  EXPECT_EQ(sent[0].packet.my_discriminator, 11u);
  EXPECT_EQ(sent[0].packet.your_discriminator, 0u);
  // RFC 5880 §6.8.3: at least one second while not Up; §6.8.7: 75-100% of it.
  EXPECT_EQ(sent[0].packet.desired_min_tx_us, 1000000u);
  EXPECT_EQ(sent[0].packet.required_min_rx_us, 300000u);
  auto next = ArmedAt(actions, Timer::kTransmit);
  ASSERT_TRUE(next);
  EXPECT_GE(*next - kT0, milliseconds(750));
  EXPECT_LE(*next - kT0, milliseconds(1000));
}

TEST(BfdSessionTest, ThreeWayHandshakeDownInitUp) {
  Session s(Config());
  s.Handle(event::Start{}, kT0);
  auto init = s.Handle(event::Received{Peer(State::kDown)}, kT0);
  EXPECT_EQ(s.state(), State::kInit);
  EXPECT_EQ(s.remote_discriminator(), 22u);
  ASSERT_EQ(All<action::StateChanged>(init).size(), 1u);
  EXPECT_EQ(ArmedAt(init, Timer::kDetect), kT0 + milliseconds(900));
  auto up = s.Handle(event::Received{Peer(State::kInit)}, kT0 + milliseconds(100));
  EXPECT_EQ(s.state(), State::kUp);
  auto changed = All<action::StateChanged>(up);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].from, State::kInit);
  EXPECT_EQ(changed[0].to, State::kUp);
  // Up: the fast rate, announced with a Poll Sequence (§6.8.3).
  auto sent = All<action::Send>(up);
  ASSERT_FALSE(sent.empty());
  EXPECT_TRUE(sent[0].packet.poll);
  EXPECT_EQ(sent[0].packet.desired_min_tx_us, 300000u);
  EXPECT_EQ(sent[0].packet.your_discriminator, 22u);
  EXPECT_EQ(s.transmit_interval(), milliseconds(300));
  // The Final ends the Poll Sequence.
  ControlPacket final = Peer(State::kUp);
  final.final = true;
  s.Handle(event::Received{final}, kT0 + milliseconds(150));
  EXPECT_FALSE(s.MakePacket().poll);
}

TEST(BfdSessionTest, DetectionTimeExpiryGoesDownWithItsDiagnostic) {
  Session s = Up();
  auto actions = s.Handle(event::TimerExpired{Timer::kDetect}, kT0 + milliseconds(900));
  EXPECT_EQ(s.state(), State::kDown);
  EXPECT_EQ(s.diagnostic(), Diagnostic::kControlDetectionTimeExpired);
  auto changed = All<action::StateChanged>(actions);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].from, State::kUp);
  EXPECT_EQ(changed[0].diagnostic, Diagnostic::kControlDetectionTimeExpired);
  EXPECT_EQ(s.remote_discriminator(), 0u);  // §6.8.1
  // Back to the slow rate, still transmitting.
  auto sent = All<action::Send>(actions);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().packet.state, State::kDown);
  EXPECT_EQ(sent.back().packet.desired_min_tx_us, 1000000u);
}

TEST(BfdSessionTest, EveryPacketRestartsDetection) {
  Session s = Up();
  auto actions = s.Handle(event::Received{Peer(State::kUp)}, kT0 + milliseconds(250));
  EXPECT_EQ(ArmedAt(actions, Timer::kDetect), kT0 + milliseconds(1150));
  // A slower peer (1 s) stretches it: its Detect Mult times its interval.
  ControlPacket slow = Peer(State::kUp);
  slow.desired_min_tx_us = 1000000;
  slow.detect_multiplier = 5;
  actions = s.Handle(event::Received{slow}, kT0 + milliseconds(300));
  EXPECT_EQ(ArmedAt(actions, Timer::kDetect), kT0 + milliseconds(300) + milliseconds(5000));
}

TEST(BfdSessionTest, PeerSignalsDownOrAdminDown) {
  Session s = Up();
  s.Handle(event::Received{Peer(State::kDown)}, kT0);
  EXPECT_EQ(s.state(), State::kDown);
  EXPECT_EQ(s.diagnostic(), Diagnostic::kNeighborSignaledDown);
  Session t = Up();
  t.Handle(event::Received{Peer(State::kAdminDown)}, kT0);
  EXPECT_EQ(t.state(), State::kDown);
  EXPECT_EQ(t.diagnostic(), Diagnostic::kNeighborSignaledDown);
}

TEST(BfdSessionTest, PollIsAnsweredWithFinal) {
  Session s = Up();
  ControlPacket poll = Peer(State::kUp);
  poll.poll = true;
  auto sent = All<action::Send>(s.Handle(event::Received{poll}, kT0));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].packet.final);
  EXPECT_FALSE(sent[0].packet.poll);
}

TEST(BfdSessionTest, PacketsForAnotherDiscriminatorAreIgnored) {
  Session s = Up();
  EXPECT_TRUE(s.Handle(event::Received{Peer(State::kUp, 99)}, kT0).empty());
  EXPECT_EQ(s.state(), State::kUp);
}

TEST(BfdSessionTest, PassiveWaitsForThePeer) {
  SessionConfig c = Config();
  c.passive = true;
  Session s(c);
  auto start = s.Handle(event::Start{}, kT0);
  EXPECT_TRUE(All<action::Send>(start).empty());
  EXPECT_EQ(ArmedAt(start, Timer::kTransmit), std::nullopt);
  EXPECT_TRUE(s.Handle(event::TimerExpired{Timer::kTransmit}, kT0).empty());
  auto heard = s.Handle(event::Received{Peer(State::kDown)}, kT0);
  EXPECT_EQ(s.state(), State::kInit);
  EXPECT_FALSE(All<action::Send>(heard).empty());
  EXPECT_TRUE(ArmedAt(heard, Timer::kTransmit));
}

TEST(BfdSessionTest, StopSendsAdminDownAndStopsTimers) {
  Session s = Up();
  auto actions = s.Handle(event::Stop{}, kT0);
  EXPECT_EQ(s.state(), State::kAdminDown);
  auto sent = All<action::Send>(actions);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].packet.state, State::kAdminDown);
  EXPECT_EQ(sent[0].packet.diagnostic, Diagnostic::kAdministrativelyDown);
  EXPECT_EQ(ArmedAt(actions, Timer::kTransmit), std::nullopt);
  EXPECT_EQ(ArmedAt(actions, Timer::kDetect), std::nullopt);
  EXPECT_TRUE(s.Handle(event::Received{Peer(State::kUp)}, kT0).empty());
}

TEST(BfdSessionTest, PeerAskingForNoPacketsGetsNone) {
  Session s = Up();
  ControlPacket quiet = Peer(State::kUp);
  quiet.required_min_rx_us = 0;  // §6.8.7: the peer does not want periodic packets
  auto actions = s.Handle(event::Received{quiet}, kT0);
  EXPECT_EQ(s.transmit_interval(), std::chrono::microseconds(0));
  auto t = s.Handle(event::TimerExpired{Timer::kTransmit}, kT0);
  EXPECT_EQ(ArmedAt(t, Timer::kTransmit), std::nullopt);
}

}  // namespace
}  // namespace bgpcomm::bfd
