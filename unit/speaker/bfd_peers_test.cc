// BFD for BGPPeers: a BFDProfile turned into a session plan, and BfdPeers against a BFD
// driver on loopback: a silent peer drops the BGP session, a peer turning BFD off does not.
#include "speaker/bfd_peers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <random>

namespace bgpcomm::speaker {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

community::Peer PeerNaming(std::string profile) {
  community::Peer p;
  p.meta = {.name = "upstream", .namespace_name = "metallb-system"};
  p.bfd_profile = std::move(profile);
  return p;
}

community::BfdProfile Profile(std::string name) {
  community::BfdProfile p;
  p.meta = {.name = std::move(name), .namespace_name = "metallb-system"};
  return p;
}

PeerEndpoint Endpoint(std::string address = "198.51.100.2") {
  PeerEndpoint e;
  e.name = "upstream";
  e.address = asio::ip::make_address(address);
  return e;
}

TEST(PlanBfdTest, NoProfileNoSession) {
  auto plan = PlanBfd(PeerNaming(""), {}, Endpoint());
  ASSERT_TRUE(plan);
  EXPECT_FALSE(*plan);
}

TEST(PlanBfdTest, DefaultsAreMetalLBs) {
  std::vector<community::BfdProfile> profiles{Profile("fast")};
  auto plan = PlanBfd(PeerNaming("fast"), profiles, Endpoint());
  ASSERT_TRUE(plan && *plan);
  const BfdPlan& p = **plan;
  EXPECT_EQ(p.config.desired_min_tx, milliseconds(300));
  EXPECT_EQ(p.config.required_min_rx, milliseconds(300));
  EXPECT_EQ(p.config.detect_multiplier, 3);
  EXPECT_FALSE(p.config.passive);
  EXPECT_FALSE(p.path.multihop);
  EXPECT_EQ(p.path.peer, asio::ip::make_address("198.51.100.2"));
}

TEST(PlanBfdTest, ProfileFieldsAndMultihop) {
  community::BfdProfile fast = Profile("fast");
  fast.transmit_interval = 100;
  fast.receive_interval = 200;
  fast.detect_multiplier = 5;
  fast.passive_mode = true;
  fast.minimum_ttl = 250;
  fast.echo_mode = false;
  std::vector<community::BfdProfile> profiles{Profile("other"), fast};
  community::Peer peer = PeerNaming("fast");
  peer.ebgp_multihop = true;
  PeerEndpoint endpoint = Endpoint();
  endpoint.source = asio::ip::make_address("198.51.100.1");
  auto plan = PlanBfd(peer, profiles, endpoint);
  ASSERT_TRUE(plan && *plan);
  const BfdPlan& p = **plan;
  EXPECT_EQ(p.profile, "fast");
  EXPECT_EQ(p.config.desired_min_tx, milliseconds(100));
  EXPECT_EQ(p.config.required_min_rx, milliseconds(200));
  EXPECT_EQ(p.config.detect_multiplier, 5);
  EXPECT_TRUE(p.config.passive);
  EXPECT_TRUE(p.path.multihop);
  EXPECT_EQ(p.path.minimum_ttl, 250);
  EXPECT_EQ(p.path.local, asio::ip::make_address("198.51.100.1"));
}

TEST(PlanBfdTest, MissingProfileNamesTheField) {
  std::vector<community::BfdProfile> profiles{Profile("slow")};
  auto plan = PlanBfd(PeerNaming("fast"), profiles, Endpoint());
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error(),
            "BGPPeer upstream: spec.bfdProfile: BFDProfile \"fast\" does not exist; the session "
            "runs without BFD until it is created");
}

TEST(PlanBfdTest, ProfileOfAnotherNamespaceIsNotThePeers) {
  community::BfdProfile elsewhere = Profile("fast");
  elsewhere.meta.namespace_name = "other";
  std::vector<community::BfdProfile> profiles{elsewhere};
  EXPECT_FALSE(PlanBfd(PeerNaming("fast"), profiles, Endpoint()));
}

TEST(PlanBfdTest, EchoModeIsRefusedNamingTheField) {
  community::BfdProfile echo = Profile("fast");
  echo.echo_mode = true;
  std::vector<community::BfdProfile> profiles{echo};
  auto plan = PlanBfd(PeerNaming("fast"), profiles, Endpoint());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error(), HasSubstr("spec.echoMode: the echo function is not implemented"));
}

// BfdPeers on loopback facing a bare driver (the "router"), ports swapped.
struct Loop {
  Loop() {
    std::random_device random;
    auto base = static_cast<std::uint16_t>(40000 + random() % 9000);
    ours.single_hop_port = base;
    ours.peer_single_hop_port = static_cast<std::uint16_t>(base + 1);
    theirs.single_hop_port = static_cast<std::uint16_t>(base + 1);
    theirs.peer_single_hop_port = base;
    peers = std::make_unique<BfdPeers>(
        io, &registry,
        [this](const std::string& peer, const std::string& diagnostic) {
          downs.push_back(peer + ": " + diagnostic);
        },
        ours);
    router = std::make_unique<bfd::Driver>(io, theirs);
  }
  template <typename F>
  bool RunUntil(F done, milliseconds budget) {
    auto end = std::chrono::steady_clock::now() + budget;
    while (!done() && std::chrono::steady_clock::now() < end) {
      io.run_for(milliseconds(5));
      io.restart();
    }
    return done();
  }
  std::string Metrics() {
    return prometheus::TextSerializer().Serialize(registry.Collect());
  }
  // Starts BFD for the peer "upstream" on 127.0.0.1 with a 50 ms x 3 profile, and the
  // router's side; returns once both are Up.
  bool Up() {
    community::BfdProfile fast = Profile("fast");
    fast.transmit_interval = 50;
    fast.receive_interval = 50;
    std::vector<community::Peer> list{PeerNaming("fast")};
    std::vector<community::BfdProfile> profiles{fast};
    peers->Apply(list, profiles, {{"upstream", Endpoint("127.0.0.1")}});
    bfd::SessionConfig config;
    config.desired_min_tx = milliseconds(50);
    config.required_min_rx = milliseconds(50);
    auto id = router->Add({.peer = asio::ip::make_address("127.0.0.1")}, config,
                          [](const bfd::StateChange&) {});
    if (!id) return false;
    router_id = *id;
    return RunUntil([&] { return peers->state("upstream") == bfd::State::kUp; },
                    milliseconds(5000));
  }
  asio::io_context io;
  prometheus::Registry registry;
  bfd::DriverOptions ours;
  bfd::DriverOptions theirs;
  std::unique_ptr<BfdPeers> peers;
  std::unique_ptr<bfd::Driver> router;
  bfd::Driver::Id router_id = 0;
  std::vector<std::string> downs;
};

TEST(BfdPeersTest, SilentPeerDropsTheBgpSession) {
  Loop loop;
  ASSERT_TRUE(loop.Up());
  EXPECT_THAT(loop.Metrics(),
              HasSubstr("bgpcomm_speaker_bfd_session_state{peer=\"upstream\",state=\"Up\"} 1"));
  loop.RunUntil([] { return false; }, milliseconds(300));  // the fast rate settles
  loop.router.reset();  // the link is cut
  ASSERT_TRUE(loop.RunUntil([&] { return !loop.downs.empty(); }, milliseconds(1000)));
  EXPECT_EQ(loop.downs, std::vector<std::string>{"upstream: control detection time expired"});
  EXPECT_THAT(loop.Metrics(),
              HasSubstr("bgpcomm_speaker_bfd_session_state{peer=\"upstream\",state=\"Down\"} 1"));
  EXPECT_THAT(loop.Metrics(), HasSubstr("bgpcomm_speaker_bfd_down_total{peer=\"upstream\"} 1"));
}

TEST(BfdPeersTest, PeerTurningBfdOffKeepsTheBgpSession) {
  Loop loop;
  ASSERT_TRUE(loop.Up());
  loop.router->Remove(loop.router_id);  // AdminDown
  ASSERT_TRUE(loop.RunUntil([&] { return loop.peers->state("upstream") == bfd::State::kDown; },
                            milliseconds(1000)));
  EXPECT_TRUE(loop.downs.empty());
}

TEST(BfdPeersTest, PeerWithoutProfileEndsItsSession) {
  Loop loop;
  ASSERT_TRUE(loop.Up());
  std::vector<community::Peer> list{PeerNaming("")};
  loop.peers->Apply(list, {}, {{"upstream", Endpoint("127.0.0.1")}});
  EXPECT_FALSE(loop.peers->state("upstream"));
  EXPECT_THAT(loop.Metrics(), ::testing::Not(HasSubstr("bgpcomm_speaker_bfd_session_state{")));
  // The router hears AdminDown and goes Down; our side calls nothing.
  ASSERT_TRUE(loop.RunUntil([&] { return loop.router->state(loop.router_id) == bfd::State::kDown; },
                            milliseconds(1000)));
  EXPECT_TRUE(loop.downs.empty());
}

}  // namespace
}  // namespace bgpcomm::speaker
