// BFD for BGPPeers: a BFDProfile turned into a session plan, and BfdPeers against a BFD
// driver on loopback: a silent peer drops the BGP session, a peer turning BFD off does not.
// The Speaker tells each BFD state to its status sink (BGPSessionState bfdStatus).
#include "speaker/bfd_peers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <random>

#include "speaker/speaker.h"
#include "speaker/status_sink.h"

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
    peers->SetStateHandler([this](const std::string& peer, bfd::State to) {
      states.push_back(peer + " " + BfdStatus(to));
    });
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
  std::vector<std::string> states;  // "peer State", from the state handler
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

TEST(BfdStatusTest, StateNameOrNotApplicable) {
  EXPECT_EQ(BfdStatus(std::nullopt), "N/A");
  EXPECT_EQ(BfdStatus(bfd::State::kUp), "Up");
  EXPECT_EQ(BfdStatus(bfd::State::kDown), "Down");
  EXPECT_EQ(BfdStatus(bfd::State::kInit), "Init");
  EXPECT_EQ(BfdStatus(bfd::State::kAdminDown), "AdminDown");
}

TEST(BfdPeersTest, EveryStateChangeReachesTheStateHandler) {
  Loop loop;
  ASSERT_TRUE(loop.Up());
  ASSERT_FALSE(loop.states.empty());
  EXPECT_EQ(loop.states.back(), "upstream Up");
  loop.router.reset();  // the link is cut
  ASSERT_TRUE(loop.RunUntil([&] { return loop.states.back() == "upstream Down"; },
                            milliseconds(1000)));
}

// A status sink that records what it is told of BFD.
class BfdSink : public StatusSink {
 public:
  void PeerAdded(const std::string&, const PeerPlan&) override {}
  void PeerRemoved(const std::string&) override {}
  void StateChanged(const std::string&, SessionState) override {}
  void Sent(const std::string&, const RouteSet&, const RibOutput::Membership*) override {}
  void ConnectUnanswered(const std::string&) override {}
  void Error(const std::string&, const std::string&) override {}
  void BfdChanged(const std::string& peer, const std::string& state) override {
    last[peer] = state;
    calls.push_back(peer + " " + state);
  }
  void Applied(const std::vector<RefusedAdvertisement>&, const std::vector<std::string>&) override {}
  bool WantsServices() const override { return false; }
  void ServicesAnnounced(const std::vector<ServiceAnnouncement>&, bool) override {}
  void ApplyDone() override {}
  std::map<std::string, std::string> last;
  std::vector<std::string> calls;
};

// The Speaker wires its BFD sessions into the status sink: bfdStatus goes Down (started),
// Up, Down (path lost) for the peer with a bfdProfile, and is N/A for a peer without one
// and once the profile is taken away.
TEST(SpeakerBfdStatusTest, BfdStatesReachTheStatusSink) {
  Loop loop;  // its io_context, ports and router; the Speaker's BfdPeers replaces its own
  loop.peers.reset();
  asio::io_context& io = loop.io;
  SpeakerMetrics metrics(nullptr);
  Speaker speaker(io, SpeakerOptions{.objects = {}, .node_name = "n1", .bfd = loop.ours},
                  metrics);
  BfdSink sink;
  speaker.SetStatusSink(&sink);
  // BGP to a loopback port nobody listens on: the BGP session never comes up, BFD does.
  auto bgp_peer = [&](std::string name, std::string profile) {
    community::Peer p = PeerNaming(std::move(profile));
    p.meta.name = std::move(name);
    p.my_asn = 64512;
    p.peer_asn = 64513;
    p.peer_address = "127.0.0.1";
    p.peer_port = loop.ours.single_hop_port + 2;
    p.router_id = "198.51.100.1";
    return p;
  };
  community::BfdProfile fast = Profile("fast");
  fast.transmit_interval = 50;
  fast.receive_interval = 50;
  SpeakerObjects objects;
  objects.node.name = "n1";
  objects.peers = {bgp_peer("upstream", "fast"), bgp_peer("plain", "")};
  objects.bfd_profiles = {fast};
  speaker.Apply(objects, {});
  EXPECT_EQ(sink.last["upstream"], "Down");
  EXPECT_EQ(sink.last["plain"], "N/A");

  bfd::SessionConfig config;
  config.desired_min_tx = milliseconds(50);
  config.required_min_rx = milliseconds(50);
  auto id = loop.router->Add({.peer = asio::ip::make_address("127.0.0.1")}, config,
                             [](const bfd::StateChange&) {});
  ASSERT_TRUE(id);
  ASSERT_TRUE(loop.RunUntil([&] { return sink.last["upstream"] == "Up"; }, milliseconds(5000)));
  loop.router.reset();  // the link is cut
  ASSERT_TRUE(loop.RunUntil([&] { return sink.last["upstream"] == "Down"; }, milliseconds(1000)));
  EXPECT_EQ(sink.last["plain"], "N/A");
  for (const std::string& call : sink.calls) EXPECT_NE(call, "plain Up");

  // The profile taken away: no BFD session, N/A.
  objects.peers = {bgp_peer("upstream", ""), bgp_peer("plain", "")};
  speaker.Apply(objects, {});
  EXPECT_EQ(sink.last["upstream"], "N/A");
  speaker.Stop();
  loop.RunUntil([] { return false; }, milliseconds(50));
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
