#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "community/ip_prefix.h"
#include "speaker/bgp_decoder.h"
#include "speaker/objects_file.h"
#include "speaker/peer_session.h"
#include "speaker/prefix_conversion.h"
#include "speaker/restart_marker.h"
#include "speaker/speaker.h"

namespace bgpcomm::speaker {
namespace {

IpPrefix P(const std::string& text) { return *FromCommunityPrefix(*community::ParsePrefix(text)); }

TEST(ObjectsFileTest, WalkthroughResolvesLikeBgpcommResolve) {
  std::vector<std::string> paths{std::string(BGPCOMM_SOURCE_DIR) + "/examples/walkthrough"};
  auto loaded = LoadObjects(paths, "node-a");
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_TRUE(loaded->refused.empty());
  EXPECT_EQ(loaded->objects.services.size(), 1u);
  DesiredRoutes d = ComputeDesiredRoutes(loaded->objects);
  EXPECT_TRUE(d.refused.empty());
  const RouteAttributes& r = d.by_peer.at("upstream-router").at(P("203.0.113.10/32"));
  EXPECT_EQ(r.communities, (std::vector<StandardCommunity>{{64512, 100}, {64512, 200}}));
  EXPECT_EQ(r.large_communities, (std::vector<LargeCommunity>{{64512, 1, 100}}));
}

class TempDir {
 public:
  TempDir() {
    path_ =
        std::filesystem::temp_directory_path() /
        ("bgpcomm-speaker-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

constexpr char kObjects[] = R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool}
spec: {addresses: ["203.0.113.0/28"]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: typo}
spec: {communities: ["primary-rout"]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bad-literal}
spec: {communities: ["64512:70000"]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: good, namespace: metallb-system}
spec: {communities: ["no-export"], nodeSelectors: [{matchLabels: {rack: r1}}]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 198.51.100.2}
---
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {rack: r1}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: LoadBalancer, externalTrafficPolicy: Local}
status: {loadBalancer: {ingress: [{ip: 203.0.113.5}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, labels: {kubernetes.io/service-name: web}}
endpoints:
  - addresses: ["10.0.0.1"]
    conditions: {ready: true}
    nodeName: node-a
)";

TEST(ObjectsFileTest, FailsClosedPerAdvertisementAndReadsKubernetesKinds) {
  TempDir dir;
  dir.Write("objects.yaml", kObjects);
  std::vector<std::string> paths{dir.path()};
  auto loaded = LoadObjects(paths, "node-a");
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_EQ(loaded->refused.size(), 1u);
  EXPECT_EQ(loaded->refused[0].name, "bad-literal");
  DesiredRoutes d = ComputeDesiredRoutes(loaded->objects);
  ASSERT_EQ(d.refused.size(), 1u);
  EXPECT_EQ(d.refused[0].name, "typo");
  EXPECT_EQ(d.refused[0].reason, "unresolved entries: \"primary-rout\"");
  EXPECT_EQ(d.refused[0].kind, community::RefusalKind::kUnresolved);
  const RouteSet& routes = d.by_peer.at("router");
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes.at(P("203.0.113.5/32")).communities,
            (std::vector<StandardCommunity>{{65535, 65281}}));
  // Another node has no local endpoint and does not match the nodeSelector.
  auto other = LoadObjects(paths, "node-b");
  ASSERT_TRUE(other);
  EXPECT_TRUE(ComputeDesiredRoutes(other->objects).by_peer.at("router").empty());
}

TEST(ObjectsFileTest, UnreadableInputIsAnError) {
  TempDir dir;
  dir.Write("objects.yaml", "kind: [unclosed\n");
  std::vector<std::string> paths{dir.path()};
  EXPECT_FALSE(LoadObjects(paths, "node-a"));
  std::vector<std::string> missing{dir.path() + "/nope.yaml"};
  EXPECT_FALSE(LoadObjects(missing, "node-a"));
}

TEST(PlanPeerTest, LocalAsnDisableMpAndRefusals) {
  community::Peer peer;
  peer.meta.name = "r";
  peer.my_asn = 64512;
  peer.peer_asn = 64513;
  peer.local_asn = 4200000000;
  peer.peer_address = "198.51.100.2";
  peer.router_id = "198.51.100.1";
  peer.dual_stack_address_family = true;
  peer.disable_mp = true;
  auto plan = PlanPeer(peer, 0);
  ASSERT_TRUE(plan) << plan.error();
  EXPECT_EQ(plan->config.local_asn, Asn(4200000000));  // OPEN's My AS and the AS path
  EXPECT_EQ(plan->config.families, std::vector{kIpv4Unicast});
  peer.vrf = "red";
  plan = PlanPeer(peer, 0);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error(),
            "BGPPeer r: spec.vrf \"red\" is not supported: this speaker peers from the default "
            "VRF only");
  EXPECT_EQ(RefusedPeerField(plan.error()), "spec.vrf");
  peer.vrf.clear();
  peer.peer_address.clear();
  peer.interface = "net0";
  plan = PlanPeer(peer, 0);
  ASSERT_FALSE(plan);
  EXPECT_EQ(RefusedPeerField(plan.error()), "spec.interface");
  EXPECT_EQ(RefusedPeerField("BGPPeer r: no router ID: set spec.routerID"), "other");
}

TEST(PlanPeerTest, FromBgpPeer) {
  community::Peer peer;
  peer.meta.name = "r";
  peer.my_asn = 4200000000;
  peer.peer_asn = 4200000001;
  peer.peer_address = "2001:db8:ff::2";
  peer.source_address = "198.51.100.1";
  peer.hold_time = "1m30s";
  peer.ebgp_multihop = true;
  peer.password = "pw";
  auto plan = PlanPeer(peer, 0x0a000001);
  ASSERT_TRUE(plan) << plan.error();
  EXPECT_EQ(plan->config.local_asn, Asn(4200000000));
  EXPECT_EQ(plan->config.peer_asn, Asn(4200000001));
  EXPECT_EQ(plan->config.router_id, 0xc6336401u);  // the IPv4 source address
  EXPECT_EQ(plan->config.hold_time_seconds, 90);
  EXPECT_EQ(plan->config.families, std::vector{kIpv6Unicast});
  EXPECT_EQ(plan->endpoint.ttl, 255);
  EXPECT_EQ(plan->endpoint.port, 179);
  EXPECT_EQ(plan->endpoint.password, "pw");
  peer.dual_stack_address_family = true;
  peer.router_id = "192.0.2.99";
  plan = PlanPeer(peer, 0x0a000001);
  EXPECT_EQ(plan->config.families, (std::vector{kIpv4Unicast, kIpv6Unicast}));
  EXPECT_EQ(plan->config.router_id, 0xc0000263u);
}

TEST(PlanPeerTest, Errors) {
  community::Peer peer;
  peer.meta.name = "r";
  peer.my_asn = 64512;
  peer.peer_asn = 64513;
  peer.peer_address = "not-an-ip";
  EXPECT_EQ(PlanPeer(peer, 1).error(), "BGPPeer r: spec.peerAddress is not an IP address");
  peer.peer_address = "198.51.100.2";
  peer.hold_time = "2s";
  EXPECT_EQ(PlanPeer(peer, 1).error(),
            "BGPPeer r: spec.holdTime must be 0 or between 3s and 65535s");
  peer.hold_time.reset();
  peer.my_asn.reset();
  EXPECT_EQ(PlanPeer(peer, 1).error(), "BGPPeer r: spec.myASN must be between 1 and 4294967295");
  peer.my_asn = 64512;
  peer.peer_asn.reset();
  peer.dynamic_asn = "internal";
  EXPECT_EQ(PlanPeer(peer, 1)->config.peer_asn, Asn(64512));
  EXPECT_EQ(PlanPeer(peer, 1)->config.peer_asn_mode, PeerAsnMode::kInternal);
  peer.dynamic_asn = "external";
  EXPECT_EQ(PlanPeer(peer, 1)->config.peer_asn_mode, PeerAsnMode::kExternal);
  peer.dynamic_asn = "";
  EXPECT_EQ(PlanPeer(peer, 1).error(),
            "BGPPeer r: spec.peerASN or spec.dynamicASN (internal or external) is required");
  peer.peer_asn = 64513;
  peer.connect_time = "0.5s";
  EXPECT_EQ(PlanPeer(peer, 1).error(), "BGPPeer r: spec.connectTime must be between 1s and 65535s");
}

TEST(RestartMarkerTest, AStartAfterAnUncleanEndKnowsItRestarted) {
  auto dir = std::filesystem::temp_directory_path() /
             ("bgpcomm-marker-" + std::to_string(::getpid())) / "state";
  std::filesystem::remove_all(dir.parent_path());
  bool restarted = true;
  auto first = RestartMarker::Begin(dir.string(), restarted);
  ASSERT_TRUE(first) << first.error();
  EXPECT_FALSE(restarted);  // a fresh node
  EXPECT_TRUE(std::filesystem::exists(first->path()));
  // The first process dies (kill -9): its marker stays, the next one sees it.
  auto second = RestartMarker::Begin(dir.string(), restarted);
  ASSERT_TRUE(second);
  EXPECT_TRUE(restarted);
  second->Remove();  // a clean stop without graceful restart
  auto third = RestartMarker::Begin(dir.string(), restarted);
  ASSERT_TRUE(third);
  EXPECT_FALSE(restarted);
  // A state dir that cannot be created is an error naming it.
  auto file = dir / "speaker.running";
  auto bad = RestartMarker::Begin(file.string(), restarted);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("--state-dir " + file.string()), std::string::npos);
  std::filesystem::remove_all(dir.parent_path());
}

TEST(PlanPeerTest, GracefulRestartFromTheBgpPeer) {
  community::Peer peer;
  peer.meta.name = "r";
  peer.my_asn = 64512;
  peer.peer_asn = 64513;
  peer.peer_address = "198.51.100.2";
  EXPECT_FALSE(PlanPeer(peer, 1)->config.graceful_restart.enabled);
  peer.enable_graceful_restart = true;
  auto plan = PlanPeer(peer, 1, 300);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->config.graceful_restart.enabled);
  EXPECT_EQ(plan->config.graceful_restart.restart_time_seconds, 300);
}

TEST(PlanPeerTest, ConnectTimeIsTheConnectRetryTime) {
  community::Peer peer;
  peer.meta.name = "r";
  peer.my_asn = 64512;
  peer.peer_asn = 64513;
  peer.peer_address = "198.51.100.2";
  EXPECT_EQ(PlanPeer(peer, 1)->config.connect_retry_max, std::chrono::seconds(10));
  peer.connect_time = "2s";
  auto plan = PlanPeer(peer, 1);
  ASSERT_TRUE(plan) << plan.error();
  EXPECT_EQ(plan->config.connect_retry_max, std::chrono::seconds(2));
  EXPECT_EQ(plan->config.connect_retry_initial, std::chrono::seconds(1));
}

// The speaker runs every hold time admission accepts (Go durations, community/duration.h),
// in whole seconds as MetalLB truncates them.
TEST(PlanPeerTest, HoldTimeInEveryGoForm) {
  community::Peer peer;
  peer.meta.name = "r";
  peer.my_asn = 64512;
  peer.peer_asn = 64513;
  peer.peer_address = "198.51.100.2";
  for (const auto& [text, seconds] : std::vector<std::pair<std::string, int>>{
           {"90000ms", 90}, {"1.5m", 90}, {"2m0.5s", 120}, {"3.9s", 3}, {"0s", 0}, {"0", 0}}) {
    peer.hold_time = text;
    auto plan = PlanPeer(peer, 1);
    ASSERT_TRUE(plan) << text << ": " << plan.error();
    EXPECT_EQ(plan->config.hold_time_seconds, seconds) << text;
  }
  for (const char* text : {"2.9s", "-3s", "90", "65536s"}) {
    peer.hold_time = text;
    EXPECT_FALSE(PlanPeer(peer, 1)) << text;
  }
}


// A fake peer on 127.0.0.1: the driver connects, the session comes up, routes arrive, and a
// malformed message gets a NOTIFICATION instead of a crash. Bounded by run_for deadlines.
class FakePeer {
 public:
  explicit FakePeer(asio::io_context& io)
      : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        socket_(io) {}
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  asio::ip::tcp::socket& socket() { return socket_; }
  void Accept() { acceptor_.accept(socket_); }
  // Reads one whole message (blocking, on the test thread).
  std::expected<Message, DecodeError> Read() {
    std::vector<std::uint8_t> header(kHeaderSize);
    asio::read(socket_, asio::buffer(header));
    auto length = FrameLength(header);
    std::vector<std::uint8_t> message = header;
    message.resize(**length);
    asio::read(socket_, asio::buffer(message.data() + kHeaderSize, **length - kHeaderSize));
    return Decode(message, CodecOptions{.four_octet_as = true});
  }
  void Write(const Bytes& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Accepts, answers the OPEN (AS 64513, hold `hold`) and confirms it.
  void Establish(std::uint16_t hold = 30) {
    Accept();
    ASSERT_TRUE(Read());
    OpenMessage reply;
    reply.asn = Asn(64513);
    reply.hold_time_seconds = hold;
    reply.bgp_identifier = 0x7f000002;
    reply.capabilities.four_octet_as = true;
    reply.capabilities.multiprotocol = {kIpv4Unicast};
    Write(*Encode(Message{reply}, {}));
    Write(EncodeKeepalive());
  }
  // Shrinks the receive buffer of connections accepted from now on (a slow reader).
  void ShrinkReceiveBuffer() {
    acceptor_.set_option(asio::socket_base::receive_buffer_size(4096));
  }

 private:
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket socket_;
};

TEST(PeerSessionTest, AnnouncesOverARealSocketAndSurvivesGarbage) {
  asio::io_context speaker_io;
  asio::io_context peer_io;
  FakePeer peer(peer_io);
  PeerEndpoint endpoint{
      .name = "fake", .address = asio::ip::make_address("127.0.0.1"), .port = peer.port()};
  SessionConfig config;
  config.local_asn = Asn(64512);
  config.peer_asn = Asn(64513);
  config.router_id = 0x7f000001;
  std::vector<std::pair<SessionState, SessionState>> transitions;
  SessionObserver observer;
  observer.state_changed = [&](const std::string&, SessionState from, SessionState to) {
    transitions.emplace_back(from, to);
  };
  auto session = std::make_shared<PeerSession>(speaker_io, endpoint, config, observer);
  RouteSet routes{{P("203.0.113.10/32"), RouteAttributes{{{64512, 100}}, {}, std::nullopt}}};
  session->SetRoutes(routes);
  session->Start();
  std::jthread loop([&] { speaker_io.run_for(std::chrono::seconds(10)); });

  peer.Accept();
  auto open = peer.Read();
  ASSERT_TRUE(open);
  EXPECT_EQ(std::get<OpenMessage>(*open).asn, Asn(64512));
  OpenMessage reply;
  reply.asn = Asn(64513);
  reply.hold_time_seconds = 30;
  reply.bgp_identifier = 0x7f000002;
  reply.capabilities.four_octet_as = true;
  reply.capabilities.multiprotocol = {kIpv4Unicast};
  peer.Write(*Encode(Message{reply}, {}));
  peer.Write(EncodeKeepalive());
  auto keepalive = peer.Read();
  ASSERT_TRUE(keepalive);
  EXPECT_TRUE(std::holds_alternative<KeepaliveMessage>(*keepalive));
  auto update = peer.Read();
  ASSERT_TRUE(update);
  const auto& u = std::get<UpdateMessage>(*update);
  EXPECT_EQ(u.nlri, std::vector{P("203.0.113.10/32")});
  EXPECT_EQ(u.attributes.communities, (std::vector<StandardCommunity>{{64512, 100}}));
  EXPECT_EQ(u.attributes.next_hop, IpAddress::V4(127, 0, 0, 1));
  auto eor = peer.Read();
  ASSERT_TRUE(eor);
  EXPECT_EQ(std::get<UpdateMessage>(*eor).EndOfRibFamily(), kIpv4Unicast);

  // A header with a broken marker: Message Header Error / Connection Not Synchronized.
  Bytes garbage(19, 0x00);
  garbage[17] = 19;
  garbage[18] = 4;
  peer.Write(garbage);
  auto notification = peer.Read();
  ASSERT_TRUE(notification);
  const auto& n = std::get<NotificationMessage>(*notification);
  EXPECT_EQ(n.code, 1);
  EXPECT_EQ(n.subcode, 1);
  asio::post(speaker_io, [&] {
    session->Stop();
    speaker_io.stop();
  });
  loop.join();
  ASSERT_GE(transitions.size(), 5u);
  EXPECT_EQ(transitions[3].second, SessionState::kEstablished);
  EXPECT_EQ(transitions[4], std::make_pair(SessionState::kEstablished, SessionState::kIdle));
}

// Records state changes from the io thread; the test thread waits for one with a deadline.
class Transitions {
 public:
  SessionObserver Observer() {
    SessionObserver o;
    o.state_changed = [this](const std::string& peer, SessionState from, SessionState to) {
      std::lock_guard lock(mu_);
      seen_.push_back({peer, from, to});
      cv_.notify_all();
    };
    return o;
  }
  bool WaitFor(const std::string& peer, SessionState from, SessionState to,
               std::chrono::seconds deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return Saw(peer, from, to); });
  }
  bool Left(const std::string& peer, SessionState state) {
    std::lock_guard lock(mu_);
    return std::ranges::any_of(seen_, [&](const Seen& s) { return s.peer == peer && s.from == state; });
  }

 private:
  struct Seen {
    std::string peer;
    SessionState from, to;
  };
  bool Saw(const std::string& peer, SessionState from, SessionState to) {
    return std::ranges::any_of(
        seen_, [&](const Seen& s) { return s.peer == peer && s.from == from && s.to == to; });
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;
};

// 100,000 routes, each with its own large community: one UPDATE each (about 6 MB).
RouteSet ManyRoutes() {
  RouteSet::Builder builder;
  builder.Reserve(100000);
  for (std::uint32_t i = 0; i < 100000; ++i) {
    std::uint32_t a = (198u << 24) | (18u << 16) | i;  // inside 198.18.0.0/15
    IpPrefix prefix{IpAddress::V4(a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff), 32};
    builder.Append(prefix, builder.AddAttributes(RouteAttributes{{}, {{64512, i, 0}}, {}}));
  }
  return std::move(builder).Build();
}

TEST(PeerSessionTest, PeerThatStopsReadingIsDroppedAndOthersStayUp) {
  asio::io_context speaker_io;
  asio::io_context peer_io;
  FakePeer stuck(peer_io);
  FakePeer healthy(peer_io);
  stuck.ShrinkReceiveBuffer();
  Transitions transitions;
  SessionConfig config;
  config.local_asn = Asn(64512);
  config.peer_asn = Asn(64513);
  config.router_id = 0x7f000001;
  const SendLimits limits{.max_queued_bytes = 256 * 1024,
                          .stall = std::chrono::seconds(90),
                          .notification_linger = std::chrono::seconds(30)};
  auto endpoint = [](const char* name, std::uint16_t port) {
    return PeerEndpoint{
        .name = name, .address = asio::ip::make_address("127.0.0.1"), .port = port};
  };
  auto stuck_session = std::make_shared<PeerSession>(
      speaker_io, endpoint("stuck", stuck.port()), config, transitions.Observer(), limits);
  auto healthy_session = std::make_shared<PeerSession>(
      speaker_io, endpoint("healthy", healthy.port()), config, transitions.Observer(), limits);
  healthy_session->SetRoutes(RouteSet{
      {P("203.0.113.10/32"), RouteAttributes{{{64512, 100}}, {}, std::nullopt}}});
  healthy_session->Start();
  std::jthread loop([&] { speaker_io.run_for(std::chrono::seconds(60)); });

  healthy.Establish(0);  // no hold timer: a slow test run cannot expire it
  ASSERT_TRUE(transitions.WaitFor("healthy", SessionState::kOpenConfirm,
                                  SessionState::kEstablished, std::chrono::seconds(20)));
  asio::post(speaker_io, [&] {
    stuck_session->SetRoutes(ManyRoutes());
    stuck_session->Start();
  });
  stuck.Establish(0);  // and then reads nothing
  ASSERT_TRUE(transitions.WaitFor("stuck", SessionState::kOpenConfirm, SessionState::kEstablished,
                                  std::chrono::seconds(20)));
  ASSERT_TRUE(transitions.WaitFor("stuck", SessionState::kEstablished, SessionState::kIdle,
                                  std::chrono::seconds(30)));
  std::promise<std::size_t> queued;
  asio::post(speaker_io, [&] { queued.set_value(stuck_session->queued_bytes()); });
  EXPECT_EQ(queued.get_future().get(), 0u);  // the closed connection's queue is off the session

  // What the stuck peer finds when it reads again: whole UPDATEs, then Cease/Out of
  // Resources (RFC 4486), never a NOTIFICATION inside a half-written UPDATE.
  std::size_t updates = 0;
  std::optional<NotificationMessage> notification;
  for (;;) {
    auto m = stuck.Read();
    ASSERT_TRUE(m) << m.error().message;
    if (auto* n = std::get_if<NotificationMessage>(&*m)) {
      notification = *n;
      break;
    }
    if (std::holds_alternative<UpdateMessage>(*m)) ++updates;
  }
  ASSERT_TRUE(notification);
  EXPECT_EQ(notification->code, 6);
  EXPECT_EQ(notification->subcode, 8);
  EXPECT_GT(updates, 0u);
  EXPECT_LT(updates, 100000u);  // dropped before the whole table was buffered
  EXPECT_FALSE(transitions.Left("healthy", SessionState::kEstablished));

  asio::post(speaker_io, [&] {
    healthy_session->Stop();
    stuck_session->Stop();
    speaker_io.stop();
  });
  loop.join();
}

// bgpcomm_speaker_session_up{peer}, as a registry collects it: peer -> value.
std::map<std::string, double> SessionUp(prometheus::Registry& registry) {
  std::map<std::string, double> out;
  for (const auto& family : registry.Collect()) {
    if (family.name != "bgpcomm_speaker_session_up") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "peer") out[label.value] = metric.gauge.value;
      }
    }
  }
  return out;
}

TEST(SpeakerMetricsTest, SessionUpIsOnePerPeerAndGoesWithThePeer) {
  prometheus::Registry registry;
  SpeakerMetrics metrics(&registry);
  EXPECT_TRUE(SessionUp(registry).empty());
  metrics.SetSessionUp({{"a", SessionState::kEstablished}, {"b", SessionState::kActive}});
  EXPECT_EQ(SessionUp(registry), (std::map<std::string, double>{{"a", 1}, {"b", 0}}));
  metrics.SetSessionUp({{"a", SessionState::kIdle}, {"b", SessionState::kEstablished}});
  EXPECT_EQ(SessionUp(registry), (std::map<std::string, double>{{"a", 0}, {"b", 1}}));
  // Peer a removed: its series goes (an alert on it must not fire forever).
  metrics.SetSessionUp({{"b", SessionState::kOpenConfirm}});
  EXPECT_EQ(SessionUp(registry), (std::map<std::string, double>{{"b", 0}}));
  SpeakerMetrics none(nullptr);
  none.SetSessionUp({{"a", SessionState::kEstablished}});  // no registry: nothing, no crash
}

}  // namespace
}  // namespace bgpcomm::speaker
