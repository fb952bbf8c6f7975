#include "speaker/status_core.h"

#include <gtest/gtest.h>

#include <set>

#include "community/annotation.h"

namespace bgpcomm::speaker::status {
namespace {

TEST(StatusNamesTest, ObjectNameIsAValidNameAndDistinct) {
  EXPECT_EQ(ObjectName("node-a", "upstream-router"), "node-a-upstream-router");
  std::string odd = ObjectName("Node_A", "peer");
  EXPECT_EQ(odd.rfind("node-a-peer-", 0), 0u) << odd;
  EXPECT_NE(odd, ObjectName("node-a", "peer"));
  std::string long_name = ObjectName(std::string(200, 'a'), std::string(200, 'b'));
  EXPECT_LE(long_name.size(), 253u);
  EXPECT_NE(long_name, ObjectName(std::string(200, 'a'), std::string(201, 'b')));
}

TEST(StatusNamesTest, PeerLabelAddsOnlyAPortThatIsNot179) {
  EXPECT_EQ(PeerLabel("198.51.100.2", 179), "198.51.100.2");
  EXPECT_EQ(PeerLabel("198.51.100.2", 1790), "198.51.100.2:1790");
  EXPECT_EQ(PeerLabel("2001:db8::1", 1790), "[2001:db8::1]:1790");
}

TEST(SessionStatusTest, DigestIgnoresOrderAndDuplicates) {
  EXPECT_EQ(PrefixesDigest({"203.0.113.10/32", "203.0.113.11/32"}),
            PrefixesDigest({"203.0.113.11/32", "203.0.113.10/32", "203.0.113.11/32"}));
  EXPECT_NE(PrefixesDigest({"203.0.113.10/32"}), PrefixesDigest({"203.0.113.11/32"}));
  EXPECT_NE(PrefixesDigest({"203.0.113.10/32"}), PrefixesDigest({}));
  EXPECT_EQ(PrefixesDigest({}).size(), 16u);
  EXPECT_EQ(PrefixesDigest({}), "0000000000000000");
}

// The speaker keeps the digest one prefix at a time; `bgpcomm status` computes it from the
// whole list: after any sequence of adds and removes the two agree.
TEST(SessionStatusTest, DigestKeptIncrementallyEqualsTheDigestOfTheWholeSet) {
  std::set<std::string> set;
  PrefixesDigestSum digest;
  std::uint32_t x = 12345;
  for (int step = 0; step < 2000; ++step) {
    x = x * 1103515245u + 12345u;
    std::string p =
        "198.18." + std::to_string((x >> 8) % 4) + "." + std::to_string((x >> 16) % 64) + "/32";
    if (set.insert(p).second) {
      digest.Add(p);
    } else {
      set.erase(p);
      digest.Remove(p);
    }
    ASSERT_EQ(digest.Hex(), PrefixesDigest({set.begin(), set.end()})) << "step " << step;
  }
}

TEST(SessionStatusTest, ListsOnlyFewPrefixes) {
  SessionStatus s{.node = "node-a", .peer = "198.51.100.2", .bgp_peer = "metallb-system/r"};
  s.bgp_status = "Established";
  s.prefixes = {"203.0.113.10/32", "203.0.113.11/32"};
  s.prefixes_sent = 2;
  for (const std::string& p : s.prefixes) s.prefixes_digest.Add(p);
  auto j = SessionStatusJson(s);
  EXPECT_EQ(j["bgpStatus"], "Established");
  EXPECT_EQ(j["bfdStatus"], "N/A");
  EXPECT_EQ(j["prefixes"], nlohmann::json::array({"203.0.113.10/32", "203.0.113.11/32"}));
  EXPECT_EQ(j["prefixesDigest"], PrefixesDigest(s.prefixes));
  s.prefixes.clear();
  s.prefixes_sent = kListedPrefixes + 1;
  EXPECT_TRUE(SessionStatusJson(s)["prefixes"].is_null());
}

TEST(ConfigurationTest, RefusedAdvertisementMakesTheSpeakerInvalidWithTheReason) {
  ConfigurationStatus valid = SpeakerConfiguration({}, {}, {}, "2026-01-01T00:00:00Z");
  EXPECT_EQ(valid.result, "Valid");
  EXPECT_EQ(valid.error_summary, "");
  ASSERT_EQ(valid.conditions.size(), 2u);
  EXPECT_EQ(valid.conditions[0].status, "True");

  std::vector<RefusedAdvertisement> refused{
      {"metallb-system", "bad", "annotation missing", community::RefusalKind::kMissing}};
  ConfigurationStatus invalid =
      SpeakerConfiguration(refused, {"BGPPeer v: spec.vrf \"x\" is not supported"}, valid,
                           "2026-01-01T00:01:00Z");
  EXPECT_EQ(invalid.result, "Invalid");
  EXPECT_NE(invalid.error_summary.find("BGPAdvertisement metallb-system/bad not announced"),
            std::string::npos)
      << invalid.error_summary;
  EXPECT_NE(invalid.error_summary.find("annotation missing"), std::string::npos);
  EXPECT_NE(invalid.error_summary.find("spec.vrf"), std::string::npos);
  EXPECT_EQ(invalid.conditions[0].status, "False");
  EXPECT_EQ(invalid.conditions[0].reason, "AdvertisementRefused");
  EXPECT_EQ(invalid.conditions[0].last_transition, "2026-01-01T00:01:00Z");

  // The same result later keeps its transition time (nothing new to write).
  ConfigurationStatus again =
      SpeakerConfiguration(refused, {"BGPPeer v: spec.vrf \"x\" is not supported"}, invalid,
                           "2026-01-01T00:09:00Z");
  EXPECT_EQ(again, invalid);
  EXPECT_EQ(ConfigurationStatusJson(again)["result"], "Invalid");
}

TEST(ConfigurationTest, AllocatorInvalidNamesThePools) {
  auto s = objectjson::AllocatorConfiguration({"IPAddressPool metallb-system/p: spec.addresses[0] bad"}, {},
                                  "2026-01-01T00:00:00Z");
  EXPECT_EQ(s.result, "Invalid");
  EXPECT_EQ(s.conditions.at(0).type, "PoolsUsable");
  EXPECT_EQ(objectjson::AllocatorConfiguration({}, s, "t").result, "Valid");
}

community::Advertisement Advert(std::string name, std::vector<std::string> entries,
                                std::vector<std::string> values) {
  community::Advertisement a;
  a.meta.name = std::move(name);
  a.meta.namespace_name = "metallb-system";
  a.communities = entries;
  a.meta.annotations[std::string(community::kResolvedAnnotation)] =
      community::EncodeAnnotation({entries, values, {}});
  return a;
}

TEST(ServiceStatusTest, AnnouncedServicesNamesThePeersPerService) {
  SpeakerObjects o;
  community::Advertisement a = Advert("a", {"64512:100"}, {"64512:100"});
  a.ip_address_pools = {"pool"};
  a.aggregation_length = 32;
  a.peers = {"r1"};
  community::Advertisement b = Advert("b", {}, {});
  b.ip_address_pools = {"pool"};
  b.aggregation_length = 28;  // covers every address of the pool
  b.peers = {"r2"};
  o.advertisements = {a, b};
  community::AddressPool pool;
  pool.meta = {.name = "pool", .namespace_name = "metallb-system"};
  pool.addresses = {"203.0.113.0/28"};
  o.pools = {pool};
  for (std::string name : {"r1", "r2"}) {
    community::Peer p;
    p.meta = {.name = name, .namespace_name = "metallb-system"};
    p.my_asn = 64512;
    p.peer_asn = 64513;
    p.peer_address = "198.51.100.2";
    o.peers.push_back(p);
  }
  o.services = {Service{"web", "default", "LoadBalancer", "Cluster", {"203.0.113.10"}},
                Service{"api", "default", "LoadBalancer", "Cluster", {"203.0.113.11"}},
                Service{"none", "default", "LoadBalancer", "Cluster", {}},
                Service{"other", "default", "ClusterIP", "Cluster", {"203.0.113.12"}}};
  o.node = {"node-a", {{"kubernetes.io/hostname", "node-a"}}};
  DesiredRoutes d = ComputeDesiredRoutes(o);
  ASSERT_TRUE(d.refused.empty());
  auto announced = AnnouncedServices(o, d);
  ASSERT_EQ(announced.size(), 2u);
  EXPECT_EQ(announced[0], (ServiceAnnouncement{"default", "api", {"r1", "r2"}}));
  EXPECT_EQ(announced[1], (ServiceAnnouncement{"default", "web", {"r1", "r2"}}));
  auto j = ServiceStatusJson("node-a", announced[1]);
  EXPECT_EQ(j["node"], "node-a");
  EXPECT_EQ(j["serviceName"], "web");
  EXPECT_EQ(j["serviceNamespace"], "default");
  EXPECT_EQ(j["peers"], nlohmann::json::array({"r1", "r2"}));
}

}  // namespace
}  // namespace bgpcomm::speaker::status
