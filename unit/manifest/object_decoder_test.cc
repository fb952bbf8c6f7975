#include "manifest/object_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bgpcomm::manifest {
namespace {

using community::Diagnostic;
using community::Severity;
using ::testing::ElementsAre;

// The first document of `text`, which must parse.
YamlNodePtr Parse(std::string_view text) {
  auto documents = ParseYamlStream(text);
  if (!documents || documents->empty()) {
    ADD_FAILURE() << (documents ? "no document" : documents.error().message);
    return YamlNode::Null();
  }
  return documents->front();
}

Document Decode(const std::string& text) {
  auto doc = DecodeObject(Parse(text), "x.yaml");
  if (!doc) ADD_FAILURE() << doc.error().ToString();
  return doc.value_or(Document{});
}

std::vector<std::string> Problems(const Document& doc) {
  std::vector<std::string> out;
  for (const Diagnostic& d : doc.problems) {
    out.push_back(std::to_string(doc.LineOf(d.field)) + " " + d.field + ": " +
                  (d.severity == Severity::kError ? "error: " : "warning: ") + d.message);
  }
  return out;
}

TEST(IsJudgedKindTest, TheServedMetallbKinds) {
  EXPECT_TRUE(IsJudgedKind("metallb.io/v1beta1", "Community"));
  EXPECT_TRUE(IsJudgedKind("metallb.io/v1beta1", "BGPAdvertisement"));
  EXPECT_TRUE(IsJudgedKind("metallb.io/v1beta1", "IPAddressPool"));
  EXPECT_TRUE(IsJudgedKind("metallb.io/v1beta2", "BGPPeer"));
  EXPECT_TRUE(IsJudgedKind("metallb.io/v1beta1", "BGPPeer"));
  EXPECT_TRUE(IsJudgedKind("metallb.io/v1beta1", "BFDProfile"));
  EXPECT_FALSE(IsJudgedKind("metallb.io/v1beta2", "Community"));
  EXPECT_FALSE(IsJudgedKind("metallb.io/v1beta1", "L2Advertisement"));
  EXPECT_FALSE(IsJudgedKind("v1", "Service"));
}

TEST(DecodeObjectTest, Community) {
  Document doc = Decode(R"(apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: my-communities
  namespace: metallb-system
  labels: {team: net}
spec:
  communities:
    - name: primary-route
      value: "64512:100"
    - name: region
      value: large:64512:1:100
)");
  const auto& object = std::get<community::CommunityObject>(doc.object);
  EXPECT_EQ(object.meta.name, "my-communities");
  EXPECT_EQ(object.meta.namespace_name, "metallb-system");
  EXPECT_EQ(object.meta.labels.at("team"), "net");
  ASSERT_EQ(object.aliases.size(), 2u);
  EXPECT_EQ(object.aliases[0].name, "primary-route");
  EXPECT_EQ(object.aliases[0].value, "64512:100");
  EXPECT_EQ(object.aliases[1].value, "large:64512:1:100");
  EXPECT_TRUE(doc.problems.empty());
  EXPECT_EQ(doc.LineOf("spec.communities[1]"), 11);
  EXPECT_EQ(doc.LineOf("spec.communities[1].value"), 12);
  EXPECT_EQ(doc.LineOf("metadata.name"), 4);
}

TEST(DecodeObjectTest, Advertisement) {
  Document doc = Decode(R"(apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, annotations: {bgpcomm.io/resolved-communities: "{}"}}
spec:
  aggregationLength: 30
  aggregationLengthV6: 120
  localPref: 100
  communities: [primary-route, "64512:1"]
  ipAddressPools: [p]
  ipAddressPoolSelectors:
    - matchLabels: {tier: gold}
  nodeSelectors:
    - matchExpressions:
        - {key: zone, operator: In, values: [a, b]}
  peers: [r1]
)");
  const auto& adv = std::get<community::Advertisement>(doc.object);
  EXPECT_EQ(adv.aggregation_length, 30);
  EXPECT_EQ(adv.aggregation_length_v6, 120);
  EXPECT_EQ(adv.local_pref, 100);
  EXPECT_THAT(adv.communities, ElementsAre("primary-route", "64512:1"));
  EXPECT_THAT(adv.ip_address_pools, ElementsAre("p"));
  ASSERT_EQ(adv.ip_address_pool_selectors.size(), 1u);
  EXPECT_EQ(adv.ip_address_pool_selectors[0].match_labels.at("tier"), "gold");
  ASSERT_EQ(adv.node_selectors.size(), 1u);
  ASSERT_EQ(adv.node_selectors[0].match_expressions.size(), 1u);
  EXPECT_EQ(adv.node_selectors[0].match_expressions[0].op, "In");
  EXPECT_THAT(adv.node_selectors[0].match_expressions[0].values, ElementsAre("a", "b"));
  EXPECT_THAT(adv.peers, ElementsAre("r1"));
  EXPECT_EQ(adv.meta.annotations.at("bgpcomm.io/resolved-communities"), "{}");
  EXPECT_TRUE(doc.problems.empty()) << Problems(doc)[0];
}

TEST(DecodeObjectTest, PoolAndPeer) {
  Document pool = Decode(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p}
spec:
  addresses: [203.0.113.0/28, 10.0.0.1-10.0.0.9]
  autoAssign: false
  avoidBuggyIPs: true
  serviceAllocation: {priority: 1}
)");
  const auto& p = std::get<community::AddressPool>(pool.object);
  EXPECT_THAT(p.addresses, ElementsAre("203.0.113.0/28", "10.0.0.1-10.0.0.9"));
  EXPECT_EQ(p.auto_assign, false);
  EXPECT_TRUE(pool.problems.empty());

  Document peer = Decode(R"(apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: r}
spec:
  myASN: 4200000000
  peerASN: 64513
  peerAddress: 198.51.100.2
  sourceAddress: 198.51.100.1
  peerPort: 1179
  holdTime: 90s
  keepaliveTime: 30s
  connectTime: 5s
  routerID: 10.0.0.1
  passwordSecret: {name: bgp-secret, namespace: metallb-system}
  ebgpMultiHop: true
  dualStackAddressFamily: true
  disableMP: false
  vrf: red
  bfdProfile: fast
  enableGracefulRestart: true
  nodeSelectors: [{matchLabels: {a: b}}]
)");
  const auto& r = std::get<community::Peer>(peer.object);
  EXPECT_EQ(r.my_asn, 4200000000);
  EXPECT_EQ(r.peer_asn, 64513);
  EXPECT_EQ(r.peer_address, "198.51.100.2");
  EXPECT_EQ(r.source_address, "198.51.100.1");
  EXPECT_EQ(r.peer_port, 1179);
  EXPECT_EQ(r.hold_time, "90s");
  EXPECT_EQ(r.keepalive_time, "30s");
  EXPECT_EQ(r.connect_time, "5s");
  EXPECT_EQ(r.router_id, "10.0.0.1");
  EXPECT_EQ(r.password_secret, (community::SecretReference{"bgp-secret", "metallb-system"}));
  EXPECT_TRUE(r.ebgp_multihop);
  EXPECT_TRUE(r.dual_stack_address_family);
  EXPECT_FALSE(r.disable_mp);
  EXPECT_EQ(r.vrf, "red");
  ASSERT_EQ(r.node_selectors.size(), 1u);
  EXPECT_TRUE(peer.problems.empty()) << Problems(peer)[0];
}

TEST(DecodeObjectTest, WrongTypesAreErrorsWithFieldPaths) {
  Document doc = Decode(R"(apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: a
spec:
  aggregationLength: "abc"
  aggregationLengthV6: "64"
  localPref: [1]
  communities: primary-route
  peers:
    - {a: b}
    - 12
  nodeSelectors:
    - matchLabels:
        enabled: true
  ipAddressPools: {a: b}
)");
  EXPECT_THAT(
      Problems(doc),
      ElementsAre("6 spec.aggregationLength: error: must be an integer, got string \"abc\"",
                  "7 spec.aggregationLengthV6: error: must be an integer, got string \"64\"",
                  "8 spec.localPref: error: must be an integer, got a list",
                  "9 spec.communities: error: must be a list, got string \"primary-route\"",
                  "11 spec.peers[0]: error: must be a string, got a mapping",
                  "12 spec.peers[1]: error: must be a string, got integer 12 (quote it)",
                  "15 spec.nodeSelectors[0].matchLabels.enabled: error: must be a string, "
                  "got boolean true (quote it)",
                  "16 spec.ipAddressPools: error: must be a list, got a mapping"));
  const auto& adv = std::get<community::Advertisement>(doc.object);
  EXPECT_FALSE(adv.aggregation_length.has_value());
  // Wrongly typed items keep their index.
  EXPECT_THAT(adv.peers, ElementsAre("", "12"));
}

TEST(DecodeObjectTest, IntegersOutOfRangeAndBooleans) {
  Document doc = Decode(R"(apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: r}
spec:
  myASN: 99999999999999999999999
  peerASN: -5
  peerPort: 0x10
  ebgpMultiHop: "true"
  disableMP: yes
)");
  EXPECT_THAT(
      Problems(doc),
      ElementsAre("5 spec.myASN: error: integer 99999999999999999999999 is out of range",
                  "8 spec.ebgpMultiHop: error: must be true or false, got string \"true\""));
  const auto& r = std::get<community::Peer>(doc.object);
  EXPECT_EQ(r.peer_asn, -5);
  EXPECT_EQ(r.peer_port, 16);
  EXPECT_TRUE(r.disable_mp);
}

TEST(DecodeObjectTest, NullsAreAbsent) {
  Document doc = Decode(R"(apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: a
  annotations:
spec:
  aggregationLength: ~
  communities:
)");
  EXPECT_TRUE(doc.problems.empty()) << Problems(doc)[0];
  const auto& adv = std::get<community::Advertisement>(doc.object);
  EXPECT_FALSE(adv.aggregation_length.has_value());
  EXPECT_TRUE(adv.communities.empty());
}

TEST(DecodeObjectTest, MissingNameUnknownFieldsAndBadSpec) {
  Document doc = Decode(R"(apiVersion: metallb.io/v1beta1
kind: Community
metadata: {}
spec:
  communities:
    - name: a
      valeu: "1:1"
  extra: 1
)");
  EXPECT_THAT(
      Problems(doc),
      ElementsAre("3 metadata.name: error: is required",
                  "7 spec.communities[0].valeu: warning: unknown field; the API server drops it "
                  "or rejects the object",
                  "8 spec.extra: warning: unknown field; the API server drops it or rejects the "
                  "object"));
  Document bad_spec = Decode(
      "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\n"
      "metadata: {name: p}\nspec: [a]\n");
  EXPECT_THAT(Problems(bad_spec), ElementsAre("4 spec: error: must be a mapping, got a list"));
}

TEST(DecodeObjectTest, OtherKindsAreKeptUndecoded) {
  Document doc = Decode("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: d}\n");
  EXPECT_FALSE(doc.Judged());
  EXPECT_EQ(doc.name, "web");
  EXPECT_EQ(doc.namespace_name, "d");
  EXPECT_TRUE(doc.problems.empty());

  Document old = Decode("apiVersion: metallb.io/v1alpha1\nkind: Community\nmetadata: {name: c}\n");
  EXPECT_FALSE(old.Judged());
  EXPECT_THAT(Problems(old), ElementsAre("1 apiVersion: warning: metallb.io/v1alpha1 Community is "
                                         "not a version bgpcomm checks; the object is ignored"));
}

TEST(DecodeObjectTest, NotAnObject) {
  auto doc = DecodeObject(Parse("[1, 2]"), "x.yaml");
  ASSERT_FALSE(doc.has_value());
  EXPECT_EQ(doc.error().ToString(),
            "x.yaml:1: expected a Kubernetes object (a mapping), got a list");
}

TEST(DecodeObjectTest, NodeBuiltInMemoryHasNoLines) {
  YamlNodePtr node = YamlNode::Mapping();
  node->Set("apiVersion", YamlNode::Scalar("metallb.io/v1beta1"));
  node->Set("kind", YamlNode::Scalar("IPAddressPool"));
  node->Child("metadata")->Set("name", YamlNode::Scalar("p"));
  node->Child("spec")->Child("addresses")->Append(YamlNode::Scalar("10.0.0.0/8"));
  auto doc = DecodeObject(node, "mem");
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->line, 0);
  EXPECT_EQ(doc->LineOf("spec.addresses[0]"), 0);
  EXPECT_THAT(std::get<community::AddressPool>(doc->object).addresses, ElementsAre("10.0.0.0/8"));
}

}  // namespace
}  // namespace bgpcomm::manifest

namespace bgpcomm::manifest {
namespace {

TEST(DecodeServiceTest, TheFieldsAllocationAndTheSpeakerRead) {
  std::vector<community::Diagnostic> problems;
  community::ServiceObject s = DecodeService(*Parse(R"(apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  uid: 1234
  labels: {app: web}
  annotations: {metallb.io/address-pool: production-pool}
spec:
  type: LoadBalancer
  clusterIP: 10.0.0.1
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: 8080, protocol: UDP}
    - {port: 443, targetPort: https}
  loadBalancerIP: 203.0.113.7
  loadBalancerClass: example.org/lb
  externalTrafficPolicy: Local
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: PreferDualStack
status:
  loadBalancer:
    ingress:
      - ip: 203.0.113.7
      - hostname: lb.example.org
)"),
                                             problems);
  EXPECT_TRUE(problems.empty()) << problems.front().ToString();
  EXPECT_EQ(s.meta.name, "web");
  EXPECT_EQ(s.meta.namespace_name, "shop");
  EXPECT_EQ(s.meta.annotations.at("metallb.io/address-pool"), "production-pool");
  EXPECT_EQ(s.type, "LoadBalancer");
  EXPECT_EQ(s.selector.at("app"), "web");
  ASSERT_EQ(s.ports.size(), 2u);
  EXPECT_EQ(s.ports[0], (community::ServicePort{"http", "UDP", 80}));
  EXPECT_EQ(s.ports[1], (community::ServicePort{"", "", 443}));
  EXPECT_EQ(s.load_balancer_ip, "203.0.113.7");
  EXPECT_EQ(s.load_balancer_class, "example.org/lb");
  EXPECT_EQ(s.external_traffic_policy, "Local");
  EXPECT_THAT(s.ip_families, ElementsAre("IPv4", "IPv6"));
  EXPECT_EQ(s.ip_family_policy, "PreferDualStack");
  EXPECT_EQ(s.status.load_balancer.ingress, (std::vector<community::LoadBalancerIngress>{
                                                {"203.0.113.7", ""}, {"", "lb.example.org"}}));
}

TEST(DecodeServiceTest, WrongTypesNameTheirFieldMalformedNeverThrows) {
  std::vector<community::Diagnostic> problems;
  community::ServiceObject s = DecodeService(*Parse(R"(apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: eighty}]
  ipFamilies: IPv4
status: [1]
)"),
                                             problems);
  EXPECT_EQ(s.meta.name, "web");
  std::vector<std::string> found;
  for (const auto& p : problems) found.push_back(p.ToString());
  EXPECT_THAT(found, ElementsAre("spec.ports[0].port: must be an integer, got string \"eighty\"",
                                 "spec.ipFamilies: must be a list, got string \"IPv4\"",
                                 "status: must be a mapping, got a list"));
  EXPECT_TRUE(DecodeService(*YamlNode::Null(), problems).meta.name.empty());
}

TEST(DecodeNodeTest, NameAndLabels) {
  std::vector<community::Diagnostic> problems;
  community::NodeSummary n = DecodeNode(
      *Parse("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels: {rack: r1}\n"),
      problems);
  EXPECT_EQ(n, (community::NodeSummary{"n1", {{"rack", "r1"}}}));
  EXPECT_TRUE(problems.empty());
}

}  // namespace
}  // namespace bgpcomm::manifest
