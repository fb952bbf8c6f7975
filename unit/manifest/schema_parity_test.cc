// The YAML decoder (manifest/) and the JSON decoder (objectjson/) walk the same field table
// (community/schema.h): the same object, read both ways, gives equal structs with every
// field of MetalLB 0.16.2 filled in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "community/schema.h"
#include "manifest/object_decoder.h"
#include "objectjson/metallb.h"

namespace bgpcomm::manifest {
namespace {

using community::Diagnostics;

// JSON is YAML: one text feeds both decoders.
template <typename T>
T FromYaml(const std::string& text) {
  auto documents = ParseYamlStream(text);
  EXPECT_TRUE(documents.has_value() && documents->size() == 1);
  auto doc = DecodeObject(documents->front(), "x.json");
  EXPECT_TRUE(doc.has_value());
  for (const auto& problem : doc->problems) ADD_FAILURE() << problem.ToString();
  return std::get<T>(doc->object);
}

template <typename T, typename Decode>
T FromJson(const std::string& text, Decode decode) {
  rapidjson::Document document;
  document.Parse(text.c_str());
  EXPECT_FALSE(document.HasParseError());
  Diagnostics problems;
  T object = decode(document, problems);
  for (const auto& problem : problems.items) ADD_FAILURE() << problem.ToString();
  return object;
}

const community::LabelSelector kSelector{
    .match_labels = {{"tier", "gold"}},
    .match_expressions = {{.key = "zone", .op = "In", .values = {"a", "b"}}}};
constexpr const char* kSelectorJson =
    R"({"matchLabels": {"tier": "gold"},
        "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]})";

std::string Object(const std::string& api_version, const std::string& kind,
                   const std::string& spec) {
  return R"({"apiVersion": ")" + api_version + R"(", "kind": ")" + kind +
         R"(", "metadata": {"name": "x", "namespace": "metallb-system",
         "labels": {"a": "b"}, "annotations": {"bgpcomm.io/n": "v"}, "uid": "u"},
         "spec": )" + spec + "}";
}

const community::ObjectMeta kMeta{.name = "x",
                                  .namespace_name = "metallb-system",
                                  .labels = {{"a", "b"}},
                                  .annotations = {{"bgpcomm.io/n", "v"}}};

TEST(SchemaParityTest, Community) {
  const std::string text = Object("metallb.io/v1beta1", "Community",
                                  R"({"communities": [{"name": "n", "value": "64512:1"}]})");
  const community::CommunityObject expected{.meta = kMeta, .aliases = {{"n", "64512:1"}}};
  EXPECT_EQ(FromYaml<community::CommunityObject>(text), expected);
  EXPECT_EQ(FromJson<community::CommunityObject>(text, objectjson::DecodeCommunity), expected);
}

TEST(SchemaParityTest, BGPAdvertisement) {
  const std::string s = kSelectorJson;
  const std::string text = Object(
      "metallb.io/v1beta1", "BGPAdvertisement",
      R"({"aggregationLength": 30, "aggregationLengthV6": 120, "localPref": 100,
          "asPathPrepend": 3, "communities": ["64512:1", "alias"], "ipAddressPools": ["p"],
          "ipAddressPoolSelectors": [)" +
          s + R"(], "nodeSelectors": [)" + s + R"(], "peers": ["r"],
          "serviceSelectors": [)" + s + "]}");
  const community::Advertisement expected{.meta = kMeta,
                                          .aggregation_length = 30,
                                          .aggregation_length_v6 = 120,
                                          .local_pref = 100,
                                          .as_path_prepend = 3,
                                          .communities = {"64512:1", "alias"},
                                          .ip_address_pools = {"p"},
                                          .ip_address_pool_selectors = {kSelector},
                                          .node_selectors = {kSelector},
                                          .peers = {"r"},
                                          .service_selectors = {kSelector}};
  EXPECT_EQ(FromYaml<community::Advertisement>(text), expected);
  EXPECT_EQ(FromJson<community::Advertisement>(text, objectjson::DecodeAdvertisement), expected);
}

TEST(SchemaParityTest, IPAddressPool) {
  const std::string s = kSelectorJson;
  const std::string text = Object(
      "metallb.io/v1beta1", "IPAddressPool",
      R"({"addresses": ["203.0.113.0/28", "198.51.100.1-198.51.100.9"], "autoAssign": false,
          "avoidBuggyIPs": true, "serviceAllocation": {"priority": 5, "namespaces": ["web"],
          "namespaceSelectors": [)" +
          s + R"(], "serviceSelectors": [)" + s + "]}}");
  const community::AddressPool expected{
      .meta = kMeta,
      .addresses = {"203.0.113.0/28", "198.51.100.1-198.51.100.9"},
      .auto_assign = false,
      .avoid_buggy_ips = true,
      .service_allocation = community::ServiceAllocation{.priority = 5,
                                                         .namespaces = {"web"},
                                                         .namespace_selectors = {kSelector},
                                                         .service_selectors = {kSelector}}};
  EXPECT_EQ(FromYaml<community::AddressPool>(text), expected);
  EXPECT_EQ(FromJson<community::AddressPool>(text, objectjson::DecodePool), expected);
}

TEST(SchemaParityTest, BGPPeer) {
  const std::string text = Object(
      "metallb.io/v1beta2", "BGPPeer",
      R"({"myASN": 64512, "peerASN": 64513, "localASN": 64600, "dynamicASN": "external",
          "peerAddress": "198.51.100.2", "interface": "eth1", "sourceAddress": "198.51.100.1",
          "peerPort": 1179, "holdTime": "1m30s", "keepaliveTime": "30s", "connectTime": "5s",
          "routerID": "198.51.100.1", "nodeSelectors": [)" +
          std::string(kSelectorJson) +
          R"(], "password": "p", "passwordSecret": {"name": "s", "namespace": "metallb-system"},
          "bfdProfile": "fast", "enableGracefulRestart": true, "ebgpMultiHop": true,
          "vrf": "red", "disableMP": true, "dualStackAddressFamily": true})");
  const community::Peer expected{.meta = kMeta,
                                 .my_asn = 64512,
                                 .peer_asn = 64513,
                                 .local_asn = 64600,
                                 .dynamic_asn = "external",
                                 .peer_address = "198.51.100.2",
                                 .interface = "eth1",
                                 .source_address = "198.51.100.1",
                                 .peer_port = 1179,
                                 .hold_time = "1m30s",
                                 .keepalive_time = "30s",
                                 .connect_time = "5s",
                                 .router_id = "198.51.100.1",
                                 .node_selectors = {kSelector},
                                 .password = "p",
                                 .password_secret = {"s", "metallb-system"},
                                 .bfd_profile = "fast",
                                 .enable_graceful_restart = true,
                                 .ebgp_multihop = true,
                                 .vrf = "red",
                                 .disable_mp = true,
                                 .dual_stack_address_family = true};
  EXPECT_EQ(FromYaml<community::Peer>(text), expected);
  EXPECT_EQ(FromJson<community::Peer>(text, objectjson::DecodePeer), expected);
}

TEST(SchemaParityTest, BFDProfile) {
  const std::string text = Object(
      "metallb.io/v1beta1", "BFDProfile",
      R"({"receiveInterval": 100, "transmitInterval": 200, "detectMultiplier": 5,
          "echoInterval": 60, "echoMode": true, "passiveMode": false, "minimumTtl": 250})");
  const community::BfdProfile expected{.meta = kMeta,
                                       .receive_interval = 100,
                                       .transmit_interval = 200,
                                       .detect_multiplier = 5,
                                       .echo_interval = 60,
                                       .echo_mode = true,
                                       .passive_mode = false,
                                       .minimum_ttl = 250};
  EXPECT_EQ(FromYaml<community::BfdProfile>(text), expected);
  EXPECT_EQ(FromJson<community::BfdProfile>(text, objectjson::DecodeBfdProfile), expected);
}

// Both decoders report a wrongly typed field under the same path, and keep a wrongly typed
// list item in its place.
TEST(SchemaParityTest, WrongTypesAtTheSamePaths) {
  const std::string text = Object(
      "metallb.io/v1beta1", "IPAddressPool",
      R"({"addresses": ["203.0.113.0/28", 5], "serviceAllocation": {"priority": "high",
          "namespaceSelectors": [{"matchLabels": {"k": 1}}, 7]}})");
  auto documents = ParseYamlStream(text);
  ASSERT_TRUE(documents.has_value());
  auto doc = DecodeObject(documents->front(), "x.json");
  ASSERT_TRUE(doc.has_value());
  std::vector<std::string> yaml_paths;
  for (const auto& problem : doc->problems) yaml_paths.push_back(problem.field);

  rapidjson::Document document;
  document.Parse(text.c_str());
  Diagnostics problems;
  community::AddressPool pool = objectjson::DecodePool(document, problems);
  std::vector<std::string> json_paths;
  for (const auto& problem : problems.items) json_paths.push_back(problem.field);

  EXPECT_THAT(yaml_paths, ::testing::ElementsAre(
                              "spec.addresses[1]", "spec.serviceAllocation.priority",
                              "spec.serviceAllocation.namespaceSelectors[0].matchLabels.k",
                              "spec.serviceAllocation.namespaceSelectors[1]"));
  EXPECT_EQ(json_paths, yaml_paths);
  EXPECT_EQ(pool.addresses.size(), 2u);
  ASSERT_TRUE(pool.service_allocation.has_value());
  EXPECT_EQ(pool.service_allocation->namespace_selectors.size(), 2u);
}

}  // namespace
}  // namespace bgpcomm::manifest
