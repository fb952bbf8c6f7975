#include "speaker/object_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bgpcomm::speaker {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

rapidjson::Document Parse(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::vector<std::string> Errors(const community::Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& e : d.Errors()) out.push_back(e.ToString());
  return out;
}

TEST(DecodeServiceTest, ReadsTypePolicyAndIngressIps) {
  auto doc = Parse(R"({"apiVersion":"v1","kind":"Service",
    "metadata":{"name":"web","namespace":"default","resourceVersion":"7"},
    "spec":{"type":"LoadBalancer","externalTrafficPolicy":"Local","ports":[{"port":80}]},
    "status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.10"},{"hostname":"lb.example"},
                                         {"ip":"2001:db8:1::10","ipMode":"VIP"}]}}})");
  community::Diagnostics diags;
  Service s = DecodeService(doc, diags);
  EXPECT_THAT(Errors(diags), IsEmpty());
  EXPECT_EQ(s.name, "web");
  EXPECT_EQ(s.namespace_name, "default");
  EXPECT_EQ(s.type, "LoadBalancer");
  EXPECT_EQ(s.external_traffic_policy, "Local");
  EXPECT_THAT(s.ingress_ips, ElementsAre("203.0.113.10", "2001:db8:1::10"));
}

TEST(DecodeServiceTest, NoStatusMeansNoAddresses) {
  auto doc = Parse(R"({"metadata":{"name":"web","namespace":"default"},
                       "spec":{"type":"ClusterIP"},"status":{"loadBalancer":{}}})");
  community::Diagnostics diags;
  Service s = DecodeService(doc, diags);
  EXPECT_THAT(Errors(diags), IsEmpty());
  EXPECT_EQ(s.type, "ClusterIP");
  EXPECT_THAT(s.ingress_ips, IsEmpty());
}

TEST(DecodeServiceTest, WrongTypesAreReportedWithTheirPath) {
  auto doc = Parse(R"({"metadata":{"name":"web"},"spec":{"type":5},
                       "status":{"loadBalancer":{"ingress":"203.0.113.10"}}})");
  community::Diagnostics diags;
  Service s = DecodeService(doc, diags);
  EXPECT_THAT(Errors(diags), ElementsAre("spec.type: must be a string, got number",
                                         "status.loadBalancer.ingress: must be a list, got string"));
  EXPECT_EQ(s.type, "");
  EXPECT_THAT(s.ingress_ips, IsEmpty());
}

TEST(DecodeEndpointSliceTest, ReadsServiceEndpointsReadinessAndNodes) {
  auto doc = Parse(R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
    "metadata":{"name":"web-abc","namespace":"default",
                "labels":{"kubernetes.io/service-name":"web"}},
    "addressType":"IPv4",
    "endpoints":[
      {"addresses":["10.1.0.5"],"conditions":{"ready":true},"nodeName":"node-a"},
      {"addresses":["10.1.0.6"],"conditions":{"ready":false},"nodeName":"node-b"},
      {"addresses":["10.1.0.7"],"conditions":{"ready":null}},
      {"addresses":["10.1.0.8"]}]})");
  community::Diagnostics diags;
  EndpointSlice e = DecodeEndpointSlice(doc, diags);
  EXPECT_THAT(Errors(diags), IsEmpty());
  EXPECT_EQ(e.name, "web-abc");
  EXPECT_EQ(e.namespace_name, "default");
  EXPECT_EQ(e.service_name, "web");
  ASSERT_EQ(e.endpoints.size(), 4u);
  EXPECT_THAT(e.endpoints[0].addresses, ElementsAre("10.1.0.5"));
  EXPECT_EQ(e.endpoints[0].ready, std::optional<bool>(true));
  EXPECT_EQ(e.endpoints[0].node_name, "node-a");
  EXPECT_EQ(e.endpoints[1].ready, std::optional<bool>(false));
  EXPECT_EQ(e.endpoints[2].ready, std::nullopt);
  EXPECT_EQ(e.endpoints[2].node_name, "");
  EXPECT_EQ(e.endpoints[3].ready, std::nullopt);
}

TEST(DecodeEndpointSliceTest, ReadyOfTheWrongTypeIsAnError) {
  auto doc = Parse(R"({"metadata":{"name":"s"},
                       "endpoints":[{"addresses":["10.1.0.5"],"conditions":{"ready":"yes"}}]})");
  community::Diagnostics diags;
  EndpointSlice e = DecodeEndpointSlice(doc, diags);
  EXPECT_THAT(Errors(diags),
              ElementsAre("endpoints[0].conditions.ready: must be a boolean, got string"));
  ASSERT_EQ(e.endpoints.size(), 1u);
  EXPECT_EQ(e.endpoints[0].ready, std::optional<bool>(false));
}

TEST(DecodeNodeTest, ReadsNameAndLabels) {
  auto doc = Parse(R"({"apiVersion":"v1","kind":"Node",
    "metadata":{"name":"node-a","labels":{"kubernetes.io/hostname":"node-a","zone":"east"}},
    "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}})");
  community::Diagnostics diags;
  Node n = DecodeNode(doc, diags);
  EXPECT_THAT(Errors(diags), IsEmpty());
  EXPECT_EQ(n.name, "node-a");
  EXPECT_EQ(n.labels, (std::map<std::string, std::string>{{"kubernetes.io/hostname", "node-a"},
                                                          {"zone", "east"}}));
}

TEST(DecodeSecretTest, DecodesDataAndFindsThePassword) {
  // "s3cr3t!" and "admin"
  auto doc = Parse(R"({"apiVersion":"v1","kind":"Secret",
    "metadata":{"name":"bgp-auth","namespace":"metallb-system"},
    "type":"kubernetes.io/basic-auth","data":{"password":"czNjcjN0IQ==","username":"YWRtaW4="}})");
  community::Diagnostics diags;
  Secret s = DecodeSecret(doc, diags);
  EXPECT_THAT(Errors(diags), IsEmpty());
  EXPECT_EQ(s.type, "kubernetes.io/basic-auth");
  EXPECT_EQ(s.data.at("username"), "admin");
  auto password = PeerPassword(s);
  ASSERT_TRUE(password.has_value()) << password.error();
  EXPECT_EQ(*password, "s3cr3t!");
}

TEST(DecodeSecretTest, MalformedBase64IsReportedAndLeftOut) {
  auto doc = Parse(R"({"metadata":{"name":"bgp-auth","namespace":"metallb-system"},
                       "data":{"password":"not base64"}})");
  community::Diagnostics diags;
  Secret s = DecodeSecret(doc, diags);
  EXPECT_THAT(Errors(diags), ElementsAre("data.password: is not valid base64"));
  EXPECT_EQ(PeerPassword(s).error(), "Secret metallb-system/bgp-auth has no data.password");
}

}  // namespace
}  // namespace bgpcomm::speaker
