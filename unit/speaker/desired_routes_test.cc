#include "speaker/desired_routes.h"

#include <gtest/gtest.h>

#include <functional>

#include "community/annotation.h"
#include "community/ip_prefix.h"
#include "speaker/prefix_conversion.h"

namespace bgpcomm::speaker {
namespace {

using community::AddressPool;
using community::Advertisement;
using community::LabelSelector;
using community::Peer;

constexpr char kNs[] = "metallb-system";

IpPrefix P(const std::string& text) { return *FromCommunityPrefix(*community::ParsePrefix(text)); }

// An advertisement whose annotation holds `values` resolved from `entries`.
Advertisement Advert(std::string name, std::vector<std::string> entries,
                     std::vector<std::string> values) {
  Advertisement a;
  a.meta.name = std::move(name);
  a.meta.namespace_name = kNs;
  a.communities = entries;
  a.meta.annotations[std::string(community::kResolvedAnnotation)] =
      community::EncodeAnnotation({entries, values, {}});
  return a;
}

AddressPool Pool(std::string name, std::vector<std::string> addresses) {
  AddressPool p;
  p.meta.name = std::move(name);
  p.meta.namespace_name = kNs;
  p.addresses = std::move(addresses);
  return p;
}

Peer MakePeer(std::string name) {
  Peer p;
  p.meta.name = std::move(name);
  p.meta.namespace_name = kNs;
  p.my_asn = 64512;
  p.peer_asn = 64513;
  p.peer_address = "198.51.100.2";
  return p;
}

Service Lb(std::string name, std::vector<std::string> ips, std::string policy = "Cluster") {
  return Service{std::move(name), "default", "LoadBalancer", std::move(policy), std::move(ips)};
}

// The walkthrough (examples/walkthrough) as the webhook stores it.
SpeakerObjects Walkthrough() {
  SpeakerObjects o;
  Advertisement primary = Advert("primary-advert", {"primary-route", "region-us-east"},
                                 {"64512:100", "large:64512:1:100"});
  primary.ip_address_pools = {"production-pool"};
  primary.aggregation_length = 32;
  Advertisement backup = Advert("backup-advert", {"backup-route"}, {"64512:200"});
  backup.ip_address_pools = {"production-pool"};
  backup.aggregation_length = 32;
  o.advertisements = {primary, backup};
  o.pools = {Pool("production-pool", {"203.0.113.0/28"})};
  o.peers = {MakePeer("upstream-router")};
  o.services = {Lb("web", {"203.0.113.10"})};
  o.node = {"node-a", {{"kubernetes.io/hostname", "node-a"}}};
  return o;
}

TEST(DesiredRoutesTest, Walkthrough) {
  DesiredRoutes d = ComputeDesiredRoutes(Walkthrough());
  EXPECT_TRUE(d.refused.empty());
  ASSERT_EQ(d.by_peer.size(), 1u);
  const RouteSet& routes = d.by_peer.at("upstream-router");
  ASSERT_EQ(routes.size(), 1u);
  const RouteAttributes& r = routes.at(P("203.0.113.10/32"));
  EXPECT_EQ(r.communities, (std::vector<StandardCommunity>{{64512, 100}, {64512, 200}}));
  EXPECT_EQ(r.large_communities, (std::vector<LargeCommunity>{{64512, 1, 100}}));
  EXPECT_EQ(r.local_pref, std::nullopt);
}

struct Case {
  std::string name;
  std::function<void(SpeakerObjects&)> change;
  // peer -> prefix -> standard communities (as text), for every peer
  std::map<std::string, std::map<std::string, std::vector<std::string>>> want;
  std::vector<std::string> refused;  // "name: reason"
};

std::vector<std::string> Texts(const std::vector<StandardCommunity>& values) {
  std::vector<std::string> out;
  for (auto v : values) out.push_back(community::Format(v));
  return out;
}

const std::vector<std::string> kBoth{"64512:100", "64512:200"};

std::vector<Case> Cases() {
  return {
      {"ServiceNotLoadBalancer",
       [](SpeakerObjects& o) { o.services[0].type = "ClusterIP"; },
       {{"upstream-router", {}}},
       {}},
      {"IpInNoPool",
       [](SpeakerObjects& o) { o.services[0].ingress_ips = {"198.51.100.77"}; },
       {{"upstream-router", {}}},
       {}},
      {"TwoIpsIncludingIpv6",
       [](SpeakerObjects& o) {
         o.pools[0].addresses.push_back("2001:db8:1::/120");
         o.services[0].ingress_ips = {"203.0.113.10", "2001:db8:1::10", "not-an-ip"};
       },
       {{"upstream-router", {{"203.0.113.10/32", kBoth}, {"2001:db8:1::10/128", kBoth}}}},
       {}},
      {"AggregationLength",
       [](SpeakerObjects& o) {
         o.advertisements[0].aggregation_length = 24;
         o.advertisements[1].aggregation_length = 24;
       },
       {{"upstream-router", {{"203.0.113.0/24", kBoth}}}},
       {}},
      {"AggregationLengthV6",
       [](SpeakerObjects& o) {
         o.pools[0].addresses.push_back("2001:db8:1::10-2001:db8:1::20");
         o.services[0].ingress_ips = {"2001:db8:1::10"};
         o.advertisements[1].aggregation_length_v6 = 64;
       },
       {{"upstream-router",
         {{"2001:db8:1::10/128", {"64512:100"}}, {"2001:db8:1::/64", {"64512:200"}}}}},
       {}},
      {"MissingAnnotationFailsClosed",
       [](SpeakerObjects& o) { o.advertisements[1].meta.annotations.clear(); },
       {{"upstream-router", {{"203.0.113.10/32", {"64512:100"}}}}},
       {"backup-advert: annotation bgpcomm.io/resolved-communities is missing"}},
      {"StaleAnnotationFailsClosed",
       [](SpeakerObjects& o) { o.advertisements[1].communities = {"blackhole"}; },
       {{"upstream-router", {{"203.0.113.10/32", {"64512:100"}}}}},
       {"backup-advert: annotation bgpcomm.io/resolved-communities is stale: spec.communities "
        "equals neither its \"from\" nor its \"communities\""}},
      {"UnresolvedFailsClosed",
       [](SpeakerObjects& o) {
         o.advertisements[0].meta.annotations[std::string(community::kResolvedAnnotation)] =
             community::EncodeAnnotation(
                 {{"primary-route", "region-us-east"}, {"64512:100"}, {"region-us-east"}});
       },
       {{"upstream-router", {{"203.0.113.10/32", {"64512:200"}}}}},
       {"primary-advert: unresolved entries: \"region-us-east\""}},
      {"PoolBySelector",
       [](SpeakerObjects& o) {
         o.pools[0].meta.labels = {{"tier", "prod"}};
         o.advertisements[1].ip_address_pools.clear();
         o.advertisements[1].ip_address_pool_selectors = {LabelSelector{{{"tier", "prod"}}, {}}};
         o.advertisements[0].ip_address_pools = {"other-pool"};
       },
       {{"upstream-router", {{"203.0.113.10/32", {"64512:200"}}}}},
       {}},
      {"NoPoolSelectionSelectsAll",
       [](SpeakerObjects& o) { o.advertisements[0].ip_address_pools.clear(); },
       {{"upstream-router", {{"203.0.113.10/32", kBoth}}}},
       {}},
      {"AdvertisementNodeSelector",
       [](SpeakerObjects& o) {
         o.advertisements[0].node_selectors = {
             LabelSelector{{{"kubernetes.io/hostname", "b"}}, {}}};
         o.advertisements[1].node_selectors = {
             LabelSelector{{{"kubernetes.io/hostname", "node-a"}}, {}}};
       },
       {{"upstream-router", {{"203.0.113.10/32", {"64512:200"}}}}},
       {}},
      {"PeerNodeSelector",
       [](SpeakerObjects& o) {
         o.peers.push_back(MakePeer("other-node-router"));
         o.peers[1].node_selectors = {LabelSelector{{{"kubernetes.io/hostname", "b"}}, {}}};
       },
       {{"upstream-router", {{"203.0.113.10/32", kBoth}}}},
       {}},
      {"AdvertisementPeers",
       [](SpeakerObjects& o) {
         o.peers.push_back(MakePeer("second"));
         o.advertisements[1].peers = {"second"};
       },
       {{"upstream-router", {{"203.0.113.10/32", {"64512:100"}}}},
        {"second", {{"203.0.113.10/32", kBoth}}}},
       {}},
      {"LocalPolicyWithoutLocalEndpoint",
       [](SpeakerObjects& o) {
         o.services[0].external_traffic_policy = "Local";
         o.endpoint_slices = {{"web-1", "default", "web", {{{"10.0.0.5"}, true, "node-b"}}}};
       },
       {{"upstream-router", {}}},
       {}},
      {"LocalPolicyWithNotReadyLocalEndpoint",
       [](SpeakerObjects& o) {
         o.services[0].external_traffic_policy = "Local";
         o.endpoint_slices = {{"web-1", "default", "web", {{{"10.0.0.5"}, false, "node-a"}}}};
       },
       {{"upstream-router", {}}},
       {}},
      {"LocalPolicyWithReadyLocalEndpoint",
       [](SpeakerObjects& o) {
         o.services[0].external_traffic_policy = "Local";
         o.endpoint_slices = {
             {"web-1", "default", "web", {{{"10.0.0.5"}, std::nullopt, "node-a"}}}};
       },
       {{"upstream-router", {{"203.0.113.10/32", kBoth}}}},
       {}},
      {"DuplicateCommunitiesMerged",
       [](SpeakerObjects& o) {
         o.advertisements[1] = Advert("backup-advert", {"64512:200", "64512:100", "no-export"},
                                      {"64512:200", "64512:100", "65535:65281"});
         o.advertisements[1].ip_address_pools = {"production-pool"};
       },
       {{"upstream-router", {{"203.0.113.10/32", {"64512:100", "64512:200", "65535:65281"}}}}},
       {}},
  };
}

class DesiredRoutesTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(DesiredRoutesTableTest, Routes) {
  SpeakerObjects o = Walkthrough();
  GetParam().change(o);
  DesiredRoutes d = ComputeDesiredRoutes(o);
  std::map<std::string, std::map<std::string, std::vector<std::string>>> got;
  for (const auto& [peer, routes] : d.by_peer) {
    auto& g = got[peer];
    for (const auto& [prefix, r] : routes) {
      g[community::Format(ToCommunityPrefix(prefix))] = Texts(r.communities);
    }
  }
  EXPECT_EQ(got, GetParam().want);
  std::vector<std::string> refused;
  for (const auto& r : d.refused) refused.push_back(r.name + ": " + r.reason);
  EXPECT_EQ(refused, GetParam().refused);
}

INSTANTIATE_TEST_SUITE_P(Objects, DesiredRoutesTableTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(DesiredRoutesTest, LocalPrefHighestWins) {
  SpeakerObjects o = Walkthrough();
  o.advertisements[0].local_pref = 150;
  o.advertisements[1].local_pref = 200;
  DesiredRoutes d = ComputeDesiredRoutes(o);
  EXPECT_EQ(d.by_peer.at("upstream-router").at(P("203.0.113.10/32")).local_pref, 200u);
}

// BGPAdvertisement serviceSelectors: only Services whose labels one selector matches.
TEST(DesiredRoutesTest, ServiceSelectorsAnnounceOnlyMatchingServices) {
  SpeakerObjects o = Walkthrough();
  o.advertisements.pop_back();  // primary-advert only
  o.advertisements[0].service_selectors = {{{{"app", "web"}}, {}}, {{{"app", "api"}}, {}}};
  o.services = {Lb("web", {"203.0.113.10"}), Lb("db", {"203.0.113.11"}),
                Lb("api", {"203.0.113.12"})};
  o.services[0].labels = {{"app", "web"}};
  o.services[1].labels = {{"app", "db"}};
  o.services[2].labels = {{"app", "api"}, {"tier", "front"}};
  DesiredRoutes d = ComputeDesiredRoutes(o);
  const RouteSet& routes = d.by_peer.at("upstream-router");
  EXPECT_EQ(routes.size(), 2u);
  EXPECT_TRUE(routes.contains(P("203.0.113.10/32")));
  EXPECT_FALSE(routes.contains(P("203.0.113.11/32")));
  EXPECT_TRUE(routes.contains(P("203.0.113.12/32")));
}

TEST(DesiredRoutesTest, AsPathPrependCarriedAndOutOfRangeRefused) {
  SpeakerObjects o = Walkthrough();
  o.advertisements[0].as_path_prepend = 3;
  DesiredRoutes d = ComputeDesiredRoutes(o);
  EXPECT_EQ(d.by_peer.at("upstream-router").at(P("203.0.113.10/32")).as_path_prepend, 3u);
  o.advertisements[1].as_path_prepend = 11;
  d = ComputeDesiredRoutes(o);
  ASSERT_EQ(d.refused.size(), 1u);
  EXPECT_EQ(d.refused[0].reason, "spec.asPathPrepend must be between 1 and 10");
}

}  // namespace
}  // namespace bgpcomm::speaker
