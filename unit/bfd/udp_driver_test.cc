// The BFD socket driver over loopback: two drivers (ports swapped, as two hosts would each own
// 3784) bring a session Up, a silent peer is detected, AdminDown is told apart, and a packet
// with a TTL below 255 is dropped (RFC 5881 §5).
#include "bfd/udp_driver.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <random>

namespace bgpcomm::bfd {
namespace {

using std::chrono::milliseconds;

const asio::ip::address kLoopback = asio::ip::make_address("127.0.0.1");

// Two drivers facing each other on loopback, on ports no other test uses at once.
struct Pair {
  Pair() {
    std::random_device random;
    auto base = static_cast<std::uint16_t>(20000 + random() % 20000);
    a_options.single_hop_port = base;
    a_options.peer_single_hop_port = static_cast<std::uint16_t>(base + 1);
    b_options.single_hop_port = static_cast<std::uint16_t>(base + 1);
    b_options.peer_single_hop_port = base;
    a_options.multihop_port = static_cast<std::uint16_t>(base + 2);
    a_options.peer_multihop_port = static_cast<std::uint16_t>(base + 3);
    a = std::make_unique<Driver>(io, a_options);
    b = std::make_unique<Driver>(io, b_options);
  }
  // Runs the loop until `done` or `budget` passes; true when done.
  template <typename F>
  bool RunUntil(F done, milliseconds budget) {
    auto end = std::chrono::steady_clock::now() + budget;
    while (!done() && std::chrono::steady_clock::now() < end) {
      io.run_for(milliseconds(5));
      io.restart();
    }
    return done();
  }
  asio::io_context io;
  DriverOptions a_options;
  DriverOptions b_options;
  std::unique_ptr<Driver> a;
  std::unique_ptr<Driver> b;
};

SessionConfig Fast() {
  SessionConfig c;
  c.desired_min_tx = milliseconds(50);
  c.required_min_rx = milliseconds(50);
  c.detect_multiplier = 3;
  return c;
}

TEST(BfdDriverTest, SessionComesUpFromAnEphemeralSourcePort) {
  Pair p;
  std::vector<StateChange> a_changes;
  auto a = p.a->Add({.peer = kLoopback}, Fast(), [&](const StateChange& c) { a_changes.push_back(c); });
  ASSERT_TRUE(a) << a.error();
  auto b = p.b->Add({.peer = kLoopback}, Fast(), [](const StateChange&) {});
  ASSERT_TRUE(b) << b.error();
  ASSERT_TRUE(p.RunUntil([&] { return p.a->state(*a) == State::kUp && p.b->state(*b) == State::kUp; },
                         milliseconds(5000)));
  EXPECT_EQ(a_changes.back().to, State::kUp);
  // RFC 5881 §4: the source port is in the dynamic range.
  EXPECT_GE(p.a->source_port(*a), 49152);
  EXPECT_GE(p.b->source_port(*b), 49152);
  // Each accepted the other's packets: sent with TTL 255, else dropped as bad_ttl.
  EXPECT_GT(p.a->stats().received, 0u);
  EXPECT_EQ(p.a->stats().bad_ttl, 0u);
  EXPECT_EQ(p.a->session(*a)->remote_discriminator(), *b);
}

TEST(BfdDriverTest, SilentPeerIsDetectedWithinTheDetectionTime) {
  Pair p;
  std::vector<StateChange> changes;
  auto a = p.a->Add({.peer = kLoopback}, Fast(), [&](const StateChange& c) { changes.push_back(c); });
  ASSERT_TRUE(a);
  ASSERT_TRUE(p.b->Add({.peer = kLoopback}, Fast(), [](const StateChange&) {}));
  ASSERT_TRUE(p.RunUntil([&] { return p.a->state(*a) == State::kUp; }, milliseconds(5000)));
  // Let the Poll Sequence of entering Up settle on the fast interval.
  p.RunUntil([] { return false; }, milliseconds(300));
  p.b.reset();  // gone without a word, like a cut link or a crashed host
  auto cut = std::chrono::steady_clock::now();
  ASSERT_TRUE(p.RunUntil([&] { return p.a->state(*a) == State::kDown; }, milliseconds(2000)));
  auto took = std::chrono::steady_clock::now() - cut;
  // 3 x 50 ms, plus scheduling on a loaded machine; the point is not seconds (a hold timer).
  EXPECT_GE(took, milliseconds(80));  // the last packet came at most one interval before
  EXPECT_LE(took, milliseconds(150 + 350));
  EXPECT_EQ(changes.back().diagnostic, Diagnostic::kControlDetectionTimeExpired);
}

TEST(BfdDriverTest, RemovedPeerSaysAdminDown) {
  Pair p;
  std::vector<StateChange> changes;
  auto a = p.a->Add({.peer = kLoopback}, Fast(), [&](const StateChange& c) { changes.push_back(c); });
  auto b = p.b->Add({.peer = kLoopback}, Fast(), [](const StateChange&) {});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(p.RunUntil([&] { return p.a->state(*a) == State::kUp; }, milliseconds(5000)));
  p.b->Remove(*b);
  ASSERT_TRUE(p.RunUntil([&] { return p.a->state(*a) == State::kDown; }, milliseconds(1000)));
  EXPECT_EQ(changes.back().diagnostic, Diagnostic::kNeighborSignaledDown);
  // RFC 5882 §3.2: the peer stopping BFD is not a path failure; the owner tells it apart.
  EXPECT_EQ(changes.back().remote_state, State::kAdminDown);
}

// Sends one Down packet to `port` on loopback with IP TTL `ttl`.
void SendWithTtl(asio::io_context& io, std::uint16_t port, int ttl) {
  asio::ip::udp::socket s(io, asio::ip::udp::v4());
  s.set_option(asio::ip::unicast::hops(ttl));
  ControlPacket packet;
  packet.state = State::kDown;
  packet.my_discriminator = 77;
  s.send_to(asio::buffer(Encode(packet)), asio::ip::udp::endpoint(kLoopback, port));
}

TEST(BfdDriverTest, PacketWithTtlBelow255IsDropped) {
  Pair p;
  SessionConfig passive = Fast();
  passive.passive = true;  // sends nothing, so only our hand-made packets arrive
  auto a = p.a->Add({.peer = kLoopback}, passive, [](const StateChange&) {});
  ASSERT_TRUE(a);
  SendWithTtl(p.io, p.a_options.single_hop_port, 64);  // a router hop away, or more
  ASSERT_TRUE(p.RunUntil([&] { return p.a->stats().bad_ttl == 1; }, milliseconds(1000)));
  EXPECT_EQ(p.a->state(*a), State::kDown);
  SendWithTtl(p.io, p.a_options.single_hop_port, 255);  // on the link
  ASSERT_TRUE(p.RunUntil([&] { return p.a->state(*a) == State::kInit; }, milliseconds(1000)));
  EXPECT_EQ(p.a->stats().bad_ttl, 1u);
  EXPECT_EQ(p.a->stats().received, 1u);
}

// RFC 5883 (ebgpMultiHop peers): its own port, and any TTL down to the path's minimum.
TEST(BfdDriverTest, MultihopTakesTtlDownToTheMinimumOnItsOwnPort) {
  Pair p;
  SessionConfig passive = Fast();
  passive.passive = true;
  auto a = p.a->Add({.peer = kLoopback, .multihop = true, .minimum_ttl = 250}, passive,
                    [](const StateChange&) {});
  ASSERT_TRUE(a);
  // A single-hop session elsewhere opens the single-hop port, which is not this session's.
  ASSERT_TRUE(p.a->Add({.peer = asio::ip::make_address("127.0.0.2")}, passive,
                       [](const StateChange&) {}));
  SendWithTtl(p.io, p.a_options.single_hop_port, 255);
  SendWithTtl(p.io, p.a_options.multihop_port, 249);
  ASSERT_TRUE(p.RunUntil([&] { return p.a->stats().bad_ttl == 1 && p.a->stats().no_session == 1; },
                         milliseconds(1000)));
  EXPECT_EQ(p.a->state(*a), State::kDown);
  SendWithTtl(p.io, p.a_options.multihop_port, 250);
  ASSERT_TRUE(p.RunUntil([&] { return p.a->state(*a) == State::kInit; }, milliseconds(1000)));
}

TEST(BfdDriverTest, PacketFromAnotherSourceFindsNoSession) {
  Pair p;
  auto a = p.a->Add({.peer = asio::ip::make_address("127.0.0.2")}, Fast(),
                    [](const StateChange&) {});
  ASSERT_TRUE(a);
  SendWithTtl(p.io, p.a_options.single_hop_port, 255);  // from 127.0.0.1
  ASSERT_TRUE(p.RunUntil([&] { return p.a->stats().no_session == 1; }, milliseconds(1000)));
  EXPECT_EQ(p.a->state(*a), State::kDown);
}

}  // namespace
}  // namespace bgpcomm::bfd
