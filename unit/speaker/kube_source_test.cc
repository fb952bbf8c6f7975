// KubeSource against a loopback apiserver stand-in: LISTs answered from fixtures, WATCHes
// held open and silent, Events recorded. No peer gets a session, so no BGP session starts.
// held open and silent, Events recorded. One case has a peer on 127.0.0.2, where nothing
// listens (its BGP connection is refused, its BFD packets find no one).
#include "speaker/kube_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <nlohmann/json.hpp>
#include <random>

#include "unit/kube/test_support.h"

namespace bgpcomm::speaker {
namespace {

using kube::testing::TestServer;
using kube::testing::WaitFor;

class FakeApiserver {
 public:
  FakeApiserver() {
    // Every informer holds a watch open (one server thread each): room for all of them and
    // the Event POSTs beside (httplib's default pool has 8 threads on a small machine).
    server_.server().new_task_queue = [] { return new httplib::ThreadPool(32); };
    server_.server().Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("watch") == "1") {
        res.set_chunked_content_provider("application/json", [this](std::size_t, httplib::DataSink&) {
          std::unique_lock lock(mu_);
          cv_.wait_for(lock, std::chrono::seconds(30), [this] { return stopping_; });
          return false;
        });
        return;
      }
      std::lock_guard lock(mu_);
      gets_.push_back(req.path + "?fieldSelector=" + req.get_param_value("fieldSelector"));
      nlohmann::json list = {{"kind", "List"},
                             {"metadata", {{"resourceVersion", "1"}}},
                             {"items", lists_[req.path]}};
      res.set_content(list.dump(), "application/json");
    });
    server_.server().Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      posts_.push_back({req.path, nlohmann::json::parse(req.body)});
      res.status = 201;
      res.set_content(req.body, "application/json");
    });
    server_.Start();
  }
  ~FakeApiserver() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.Stop();
  }
  void SetList(const std::string& path, nlohmann::json items) {
    std::lock_guard lock(mu_);
    lists_[path] = std::move(items);
  }
  std::vector<std::pair<std::string, nlohmann::json>> Posts() {
    std::lock_guard lock(mu_);
    return posts_;
  }
  // Every LIST (not WATCH) as "PATH?fieldSelector=SELECTOR".
  std::vector<std::string> Gets() {
    std::lock_guard lock(mu_);
    return gets_;
  }
  std::string Url() const { return server_.Url(); }

 private:
  std::vector<std::string> gets_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, nlohmann::json> lists_;
  std::vector<std::pair<std::string, nlohmann::json>> posts_;
  TestServer server_;
};

constexpr const char* kMetallb = "/apis/metallb.io/v1beta1/namespaces/metallb-system/";

nlohmann::json Advertisement(const std::string& name, nlohmann::json annotations,
                             nlohmann::json spec) {
  return {{"apiVersion", "metallb.io/v1beta1"},
          {"kind", "BGPAdvertisement"},
          {"metadata",
           {{"name", name},
            {"namespace", "metallb-system"},
            {"uid", "uid-" + name},
            {"resourceVersion", "5"},
            {"annotations", annotations}}},
          {"spec", spec}};
}

class KubeSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    apiserver_.SetList(std::string(kMetallb) + "ipaddresspools",
                       nlohmann::json::array({{{"metadata",
                                                {{"name", "production-pool"},
                                                 {"namespace", "metallb-system"},
                                                 {"resourceVersion", "2"}}},
                                               {"spec", {{"addresses", {"203.0.113.0/28"}}}}}}));
    apiserver_.SetList("/api/v1/services",
                       nlohmann::json::array(
                           {{{"metadata",
                              {{"name", "web"}, {"namespace", "default"}, {"resourceVersion", "3"}}},
                             {"spec", {{"type", "LoadBalancer"}}},
                             {"status", {{"loadBalancer", {{"ingress", {{{"ip", "203.0.113.10"}}}}}}}}}}));
  }

  // Runs a KubeSource (and the speaker's io_context) until `done` holds.
  bool RunUntil(const std::function<bool()>& done, prometheus::Registry* registry = nullptr,
                bfd::DriverOptions bfd = {}) {
    auto client = kube::Client::New(kube::RestConfig{.server = apiserver_.Url()});
    EXPECT_TRUE(client.has_value());
    kube::RealClock clock;
    kube::EventRecorder events(**client, clock, {.component = "bgpcomm-speaker", .instance = "n1"});
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    SpeakerMetrics metrics(registry);
    Speaker speaker(io, SpeakerOptions{.objects = {}, .node_name = "n1", .bfd = bfd}, metrics);
    std::jthread io_thread([&] { io.run(); });
    KubeSource source(**client, events, speaker, io,
                      KubeSourceOptions{.namespace_name = "metallb-system", .node_name = "n1"});
    source.Start();
    bool ok = WaitFor([&] { return speaker.ready() && done(); });
    source.Stop();
    work.reset();
    io.stop();
    return ok;
  }

  std::vector<nlohmann::json> Events() {
    std::vector<nlohmann::json> out;
    for (auto& [path, body] : apiserver_.Posts()) {
      if (path == "/api/v1/namespaces/metallb-system/events") out.push_back(body);
    }
    return out;
  }

  FakeApiserver apiserver_;
};

TEST_F(KubeSourceTest, AdvertisementWithoutResolutionGetsAWarningEvent) {
  apiserver_.SetList(
      std::string(kMetallb) + "bgpadvertisements",
      nlohmann::json::array(
          {Advertisement("late-advert", nlohmann::json::object(),
                         {{"ipAddressPools", {"production-pool"}}, {"communities", {"64512:300"}}}),
           Advertisement("primary-advert",
                         {{"bgpcomm.io/resolved-communities",
                           R"({"from":["64512:100"],"communities":["64512:100"]})"}},
                         {{"ipAddressPools", {"production-pool"}}, {"communities", {"64512:100"}}})}));
  ASSERT_TRUE(RunUntil([&] { return !Events().empty(); }));
  std::vector<nlohmann::json> events = Events();
  ASSERT_EQ(events.size(), 1u) << events.back().dump();
  EXPECT_EQ(events[0]["type"], "Warning");
  EXPECT_EQ(events[0]["reason"], "ResolutionMissing");
  EXPECT_EQ(events[0]["involvedObject"]["kind"], "BGPAdvertisement");
  EXPECT_EQ(events[0]["involvedObject"]["name"], "late-advert");
  EXPECT_EQ(events[0]["involvedObject"]["uid"], "uid-late-advert");
  EXPECT_THAT(events[0]["message"].get<std::string>(),
              ::testing::StartsWith("not announced: annotation bgpcomm.io/resolved-communities"));
  EXPECT_EQ(events[0]["source"]["component"], "bgpcomm-speaker");
}

TEST_F(KubeSourceTest, AdvertisementThatDoesNotDecodeIsRefusedAsInvalid) {
  apiserver_.SetList(std::string(kMetallb) + "bgpadvertisements",
                     nlohmann::json::array({Advertisement(
                         "odd-advert",
                         {{"bgpcomm.io/resolved-communities",
                           R"({"from":["64512:100"],"communities":["64512:100"]})"}},
                         {{"communities", {"64512:100"}}, {"aggregationLength", "32"}})}));
  ASSERT_TRUE(RunUntil([&] { return !Events().empty(); }));
  std::vector<nlohmann::json> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["reason"], "AdvertisementInvalid");
  EXPECT_EQ(events[0]["message"],
            "not announced: does not decode: spec.aggregationLength: must be an integer, got "
            "string");
}

TEST_F(KubeSourceTest, ReadsOnlyTheSecretsPeersNameEachByName) {
  // RBAC grants the speaker the Secrets of speaker.passwordSecrets by resourceNames,
  // which allows a list/watch only with a metadata.name field selector.
  apiserver_.SetList(
      "/apis/metallb.io/v1beta2/namespaces/metallb-system/bgppeers",
      nlohmann::json::array({{{"metadata",
                               {{"name", "router-a"},
                                {"namespace", "metallb-system"},
                                {"resourceVersion", "4"}}},
                              {"spec",
                               {{"myASN", 64512},
                                {"peerASN", 64513},
                                {"peerAddress", "127.0.0.1"},
                                {"peerPort", 1},
                                {"passwordSecret", {{"name", "bgp-auth"}}}}}}}));
  const std::string secrets = "/api/v1/namespaces/metallb-system/secrets";
  apiserver_.SetList(secrets, nlohmann::json::array({{{"metadata",
                                                        {{"name", "bgp-auth"},
                                                         {"namespace", "metallb-system"},
                                                         {"resourceVersion", "6"}}},
                                                       {"type", "kubernetes.io/basic-auth"},
                                                       {"data", {{"password", "czNjcmV0"}}}}}));
  auto listed_by_name = [&] {
    auto gets = apiserver_.Gets();
    return std::ranges::count(gets, secrets + "?fieldSelector=metadata.name=bgp-auth") > 0;
  };
  EXPECT_TRUE(RunUntil(listed_by_name));
  // Never the namespace's Secrets: a list by name, or a GET of that one (before the
  // watch has listed).
  for (const auto& get : apiserver_.Gets()) {
    if (!get.starts_with(secrets)) continue;
    EXPECT_THAT(get, testing::AnyOf(secrets + "?fieldSelector=metadata.name=bgp-auth",
                                    secrets + "/bgp-auth?fieldSelector="));
  }
}

// A BGPPeer the speaker cannot serve (vrf) is refused with a Warning Event on the BGPPeer
// that names the node, the field and the reason.
TEST_F(KubeSourceTest, PeerWithVrfGetsAWarningEventNamingTheField) {
  auto peer = [](const std::string& name, nlohmann::json extra) {
    nlohmann::json spec = {{"myASN", 64512}, {"peerASN", 64513}, {"peerAddress", "127.0.0.1"},
                           {"peerPort", 1}, {"routerID", "198.51.100.1"}};
    spec.update(extra);
    return nlohmann::json{{"apiVersion", "metallb.io/v1beta2"},
                          {"kind", "BGPPeer"},
                          {"metadata",
                           {{"name", name},
                            {"namespace", "metallb-system"},
                            {"uid", "uid-" + name},
                            {"resourceVersion", "7"}}},
                          {"spec", spec}};
  };
  apiserver_.SetList("/apis/metallb.io/v1beta2/namespaces/metallb-system/bgppeers",
                     nlohmann::json::array({peer("vrf-peer", {{"vrf", "red"}})}));
  ASSERT_TRUE(RunUntil([&] { return !Events().empty(); }));
  std::vector<nlohmann::json> events = Events();
  ASSERT_EQ(events.size(), 1u) << events.back().dump();
  EXPECT_EQ(events[0]["type"], "Warning");
  EXPECT_EQ(events[0]["reason"], "PeerRefused");
  EXPECT_EQ(events[0]["involvedObject"]["kind"], "BGPPeer");
  EXPECT_EQ(events[0]["involvedObject"]["apiVersion"], "metallb.io/v1beta2");
  EXPECT_EQ(events[0]["involvedObject"]["name"], "vrf-peer");
  EXPECT_EQ(events[0]["involvedObject"]["uid"], "uid-vrf-peer");
  EXPECT_EQ(events[0]["message"],
            "no BGP session from node n1: spec.vrf \"red\" is not supported: this speaker "
            "peers from the default VRF only");
}

// A BGPPeer naming a BFDProfile: the profile comes through its informer and the peer gets a
// BFD session (its state in the metrics).
TEST_F(KubeSourceTest, BgpPeerWithBfdProfileGetsABfdSession) {
  apiserver_.SetList("/apis/metallb.io/v1beta2/namespaces/metallb-system/bgppeers",
                     nlohmann::json::array({{{"metadata",
                                              {{"name", "upstream"},
                                               {"namespace", "metallb-system"},
                                               {"resourceVersion", "7"}}},
                                             {"spec",
                                              {{"myASN", 64512},
                                               {"peerASN", 64513},
                                               {"peerAddress", "127.0.0.2"},
                                               {"routerID", "198.51.100.1"},
                                               {"bfdProfile", "fast"}}}}}));
  apiserver_.SetList(std::string(kMetallb) + "bfdprofiles",
                     nlohmann::json::array({{{"metadata",
                                              {{"name", "fast"},
                                               {"namespace", "metallb-system"},
                                               {"resourceVersion", "8"}}},
                                             {"spec", {{"transmitInterval", 100}}}}}));
  prometheus::Registry registry;
  // Ports of our own on loopback: nothing answers, the session stays Down.
  std::random_device random;
  bfd::DriverOptions ports;
  ports.single_hop_port = static_cast<std::uint16_t>(30000 + random() % 9000);
  ports.peer_single_hop_port = static_cast<std::uint16_t>(ports.single_hop_port + 1);
  const std::string down = R"(bgpcomm_speaker_bfd_session_state{peer="upstream",state="Down"} 1)";
  ASSERT_TRUE(RunUntil(
      [&] {
        return prometheus::TextSerializer().Serialize(registry.Collect()).find(down) !=
               std::string::npos;
      },
      &registry, ports));
}

TEST(RefusalEventReasonTest, OneReasonPerMetricReason) {
  using community::RefusalKind;
  EXPECT_EQ(RefusalEventReason(RefusalKind::kMissing), "ResolutionMissing");
  EXPECT_EQ(RefusalEventReason(RefusalKind::kUnreadable), "ResolutionUnreadable");
  EXPECT_EQ(RefusalEventReason(RefusalKind::kStale), "ResolutionStale");
  EXPECT_EQ(RefusalEventReason(RefusalKind::kUnresolved), "CommunitiesUnresolved");
  EXPECT_EQ(RefusalEventReason(RefusalKind::kInvalid), "AdvertisementInvalid");
}

}  // namespace
}  // namespace bgpcomm::speaker
