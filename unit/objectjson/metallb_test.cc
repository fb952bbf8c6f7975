#include "objectjson/metallb.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

namespace bgpcomm::objectjson {
namespace {

rapidjson::Document Parse(const char* text) {
  rapidjson::Document document;
  document.Parse(text);
  EXPECT_FALSE(document.HasParseError()) << text;
  return document;
}

std::vector<std::string> Messages(const community::Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics.items) out.push_back(d.ToString());
  return out;
}

TEST(ObjectJson, DecodesMetadata) {
  auto document = Parse(R"({"metadata":{"name":"a","namespace":"metallb-system",
      "labels":{"tier":"gold"},"annotations":{"note":"x"},"resourceVersion":"9"}})");
  community::Diagnostics out;
  community::ObjectMeta meta = DecodeMeta(document, out);
  EXPECT_TRUE(out.items.empty());
  EXPECT_EQ(meta.name, "a");
  EXPECT_EQ(meta.namespace_name, "metallb-system");
  EXPECT_EQ(meta.labels, (std::map<std::string, std::string>{{"tier", "gold"}}));
  EXPECT_EQ(meta.annotations, (std::map<std::string, std::string>{{"note", "x"}}));
}

TEST(ObjectJson, DecodesACommunity) {
  auto document = Parse(R"({"apiVersion":"metallb.io/v1beta1","kind":"Community",
      "metadata":{"name":"tiers","namespace":"metallb-system"},
      "spec":{"communities":[{"name":"gold","value":"64512:100"},
                             {"name":"big","value":"large:64512:1:2"}]}})");
  community::Diagnostics out;
  community::CommunityObject object = DecodeCommunity(document, out);
  EXPECT_TRUE(out.items.empty());
  EXPECT_EQ(object.meta.name, "tiers");
  EXPECT_EQ(object.aliases, (std::vector<community::CommunityAlias>{
                                {"gold", "64512:100"}, {"big", "large:64512:1:2"}}));
}

TEST(ObjectJson, DecodesAnAdvertisementWithEveryListAndSelector) {
  auto document = Parse(R"({"metadata":{"name":"primary","namespace":"metallb-system"},
      "spec":{"aggregationLength":32,"aggregationLengthV6":128,"localPref":100,
              "communities":["gold","64512:7"],"ipAddressPools":["production"],
              "ipAddressPoolSelectors":[{"matchLabels":{"tier":"a"}}],
              "nodeSelectors":[{"matchExpressions":[{"key":"rack","operator":"In",
                                                     "values":["r1","r2"]}]}],
              "peers":["router"]}})");
  community::Diagnostics out;
  community::Advertisement object = DecodeAdvertisement(document, out);
  EXPECT_TRUE(out.items.empty()) << Messages(out).front();
  EXPECT_EQ(object.aggregation_length, 32);
  EXPECT_EQ(object.aggregation_length_v6, 128);
  EXPECT_EQ(object.local_pref, 100);
  EXPECT_EQ(object.communities, (std::vector<std::string>{"gold", "64512:7"}));
  EXPECT_EQ(object.ip_address_pools, std::vector<std::string>{"production"});
  ASSERT_EQ(object.ip_address_pool_selectors.size(), 1u);
  EXPECT_EQ(object.ip_address_pool_selectors[0].match_labels.at("tier"), "a");
  ASSERT_EQ(object.node_selectors.size(), 1u);
  ASSERT_EQ(object.node_selectors[0].match_expressions.size(), 1u);
  EXPECT_EQ(object.node_selectors[0].match_expressions[0].op, "In");
  EXPECT_EQ(object.node_selectors[0].match_expressions[0].values,
            (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(object.peers, std::vector<std::string>{"router"});
}

TEST(ObjectJson, ReportsWrongTypesWithTheirPathAndKeepsTheRest) {
  auto document = Parse(R"({"metadata":{"name":"bad"},
      "spec":{"aggregationLength":"32","communities":["gold",7],"peers":"router",
              "ipAddressPools":["production"]}})");
  community::Diagnostics out;
  community::Advertisement object = DecodeAdvertisement(document, out);
  EXPECT_EQ(Messages(out), (std::vector<std::string>{
                               "spec.aggregationLength: must be an integer, got string",
                               "spec.communities[1]: must be a string, got number",
                               "spec.peers: must be a list of strings, got string"}));
  EXPECT_FALSE(object.aggregation_length.has_value());
  EXPECT_EQ(object.ip_address_pools, std::vector<std::string>{"production"});
}

TEST(ObjectJson, NullIsAbsentAndUnknownFieldsAreSkipped) {
  auto document = Parse(R"({"metadata":{"name":"p"},
      "spec":{"addresses":["198.51.100.0/24"],"autoAssign":null,"avoidBuggyIPs":true,
              "futureField":{"x":1}}})");
  community::Diagnostics out;
  community::AddressPool pool = DecodePool(document, out);
  EXPECT_TRUE(out.items.empty());
  EXPECT_EQ(pool.addresses, std::vector<std::string>{"198.51.100.0/24"});
  EXPECT_FALSE(pool.auto_assign.has_value());
  EXPECT_TRUE(pool.avoid_buggy_ips);
}

TEST(ObjectJson, AnIntegerBeyondInt64SurvivesAsOutOfRange) {
  auto document = Parse(R"({"metadata":{"name":"r"},
      "spec":{"myASN":64512,"peerASN":18446744073709551615,"peerAddress":"198.51.100.2",
              "holdTime":"90s","passwordSecret":{"name":"s","namespace":"metallb-system"}}})");
  community::Diagnostics out;
  community::Peer peer = DecodePeer(document, out);
  EXPECT_TRUE(out.items.empty());
  EXPECT_EQ(peer.my_asn, 64512);
  EXPECT_EQ(peer.peer_asn, INT64_MAX);
  EXPECT_EQ(peer.peer_address, "198.51.100.2");
  EXPECT_EQ(peer.hold_time, "90s");
  EXPECT_EQ(peer.password_secret.name, "s");
}

TEST(ObjectJson, NonObjectsDecodeToEmptyStructs) {
  for (const char* text : {"[]", "null", "3", R"("x")"}) {
    auto document = Parse(text);
    community::Diagnostics out;
    EXPECT_EQ(DecodeCommunity(document, out), community::CommunityObject{}) << text;
  }
}

TEST(ObjectJson, DecodesAServiceWithItsStatus) {
  auto document = Parse(R"({"apiVersion":"v1","kind":"Service",
      "metadata":{"name":"web","namespace":"default","uid":"u"},
      "spec":{"type":"LoadBalancer","clusterIP":"10.0.0.7","ports":[{"port":80,"protocol":"UDP",
              "targetPort":8080}],"ipFamilies":["IPv4"],"externalTrafficPolicy":"Local"},
      "status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.10","ipMode":"VIP"}]}}})");
  community::Diagnostics out;
  community::ServiceObject s = DecodeService(document, out);
  EXPECT_TRUE(out.items.empty()) << Messages(out).front();
  EXPECT_EQ(s.meta.name, "web");
  EXPECT_EQ(s.type, "LoadBalancer");
  ASSERT_EQ(s.ports.size(), 1u);
  EXPECT_EQ(s.ports[0].port, 80);
  EXPECT_EQ(s.ports[0].protocol, "UDP");
  EXPECT_EQ(s.external_traffic_policy, "Local");
  ASSERT_EQ(s.status.load_balancer.ingress.size(), 1u);
  EXPECT_EQ(s.status.load_balancer.ingress[0].ip, "203.0.113.10");

  auto bad = Parse(R"({"metadata":{"name":"x"},"status":{"loadBalancer":{"ingress":"no"}}})");
  community::Diagnostics problems;
  EXPECT_TRUE(DecodeService(bad, problems).status.load_balancer.ingress.empty());
  ASSERT_EQ(problems.items.size(), 1u);
  EXPECT_EQ(problems.items[0].field, "status.loadBalancer.ingress");
}

}  // namespace
}  // namespace bgpcomm::objectjson
