#include "webhook/allocator_controller.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace bgpcomm::webhook {
namespace {

rapidjson::Document Parse(const char* json) {
  rapidjson::Document document;
  document.Parse(json);
  EXPECT_FALSE(document.HasParseError());
  return document;
}

TEST(DecodeStoredServiceTest, ReadsWhatAllocationNeedsAndKeepsTheObject) {
  auto json = Parse(R"({"apiVersion":"v1","kind":"Service",
    "metadata":{"name":"web","namespace":"shop","resourceVersion":"7",
      "labels":{"app":"web"},
      "annotations":{"metallb.io/loadBalancerIPs":"203.0.113.10","metallb.io/allow-shared-ip":"k"}},
    "spec":{"type":"LoadBalancer","loadBalancerClass":"example.com/lb","loadBalancerIP":"203.0.113.9",
      "ipFamilies":["IPv4","IPv6"],"ipFamilyPolicy":"RequireDualStack",
      "externalTrafficPolicy":"Local","selector":{"app":"web"},
      "ports":[{"port":80,"protocol":"TCP"},{"port":53,"protocol":"UDP"},{"port":8080}]},
    "status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.10"},{"hostname":"x.example"},{"ip":"2001:db8::a"}]}}})");
  StoredService stored = DecodeStoredService(json);
  const allocator::Service& s = stored.service;
  EXPECT_EQ(s.Key(), "shop/web");
  EXPECT_EQ(s.type, "LoadBalancer");
  EXPECT_EQ(s.load_balancer_class, "example.com/lb");
  EXPECT_EQ(s.load_balancer_ip, "203.0.113.9");
  EXPECT_EQ(s.annotations.at("metallb.io/loadBalancerIPs"), "203.0.113.10");
  EXPECT_EQ(s.labels.at("app"), "web");
  EXPECT_EQ(s.ip_families,
            (std::vector{allocator::IpFamily::kIPv4, allocator::IpFamily::kIPv6}));
  EXPECT_EQ(s.ip_family_policy, allocator::IpFamilyPolicy::kRequireDualStack);
  EXPECT_EQ(s.external_traffic_policy, allocator::TrafficPolicy::kLocal);
  EXPECT_EQ(s.selector.at("app"), "web");
  EXPECT_EQ(s.ports, (std::vector<allocator::ServicePort>{{"TCP", 80}, {"UDP", 53}, {"TCP", 8080}}));
  // Hostname-only entries are not addresses.
  EXPECT_EQ(s.held, (std::vector<std::string>{"203.0.113.10", "2001:db8::a"}));
  EXPECT_TRUE(s.namespace_labels.empty());  // filled in from the Namespace when fed
  EXPECT_NE(stored.json.find(R"("resourceVersion":"7")"), std::string::npos);
}

TEST(DecodeStoredServiceTest, DefaultsAndWrongTypesReadAsMissing) {
  auto json = Parse(R"({"metadata":{"name":"a","namespace":"n","annotations":5},
    "spec":{"ports":"none","ipFamilyPolicy":"Sometimes","loadBalancerClass":null},
    "status":{"loadBalancer":{"ingress":{"ip":"1"}}}})");
  const allocator::Service s = DecodeStoredService(json).service;
  EXPECT_EQ(s.type, "ClusterIP");  // the API's default
  EXPECT_FALSE(s.load_balancer_class.has_value());
  EXPECT_FALSE(s.ip_family_policy.has_value());
  EXPECT_EQ(s.external_traffic_policy, allocator::TrafficPolicy::kCluster);
  EXPECT_TRUE(s.annotations.empty());
  EXPECT_TRUE(s.ports.empty());
  EXPECT_TRUE(s.held.empty());
}

// The admission view reads the allocator's Service informer through ServiceObjectOf.
TEST(ServiceObjectOfTest, NameTypeAndHeldAddresses) {
  auto json = Parse(R"({"metadata":{"name":"web","namespace":"shop"},"spec":{"type":"LoadBalancer"},
    "status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.10"},{"hostname":"x.example"},{"ip":"2001:db8::a"}]}}})");
  kube::Object object{.namespace_name = "shop", .name = "web"};
  object.decoded = std::make_shared<const StoredService>(DecodeStoredService(json));
  auto read = ServiceObjectOf(object);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->meta.namespace_name, "shop");
  EXPECT_EQ(read->meta.name, "web");
  EXPECT_EQ(read->type, "LoadBalancer");
  ASSERT_EQ(read->status.load_balancer.ingress.size(), 2u);
  EXPECT_EQ(read->status.load_balancer.ingress[0].ip, "203.0.113.10");
  EXPECT_EQ(read->status.load_balancer.ingress[1].ip, "2001:db8::a");
  EXPECT_FALSE(ServiceObjectOf(kube::Object{.name = "undecoded"}).has_value());
}

TEST(DecodeStoredPoolTest, ReadsThePoolAndItsStatusCounts) {
  auto json = Parse(R"({"metadata":{"name":"p","namespace":"metallb-system"},
    "spec":{"addresses":["203.0.113.0/28"],"autoAssign":false,"avoidBuggyIPs":true},
    "status":{"assignedIPv4":2,"availableIPv4":14,"assignedIPv6":0,"availableIPv6":0}})");
  StoredPool stored = DecodeStoredPool(json);
  EXPECT_EQ(stored.pool.meta.name, "p");
  EXPECT_EQ(stored.pool.addresses, std::vector<std::string>{"203.0.113.0/28"});
  EXPECT_EQ(stored.pool.auto_assign, false);
  EXPECT_TRUE(stored.pool.avoid_buggy_ips);
  ASSERT_TRUE(stored.status.has_value());
  EXPECT_EQ(*stored.status, (allocator::PoolCounts{.assigned_ipv4 = 2, .available_ipv4 = 14}));

  auto without = Parse(R"({"metadata":{"name":"q"},"spec":{"addresses":["2001:db8::/64"]}})");
  EXPECT_FALSE(DecodeStoredPool(without).status.has_value());
}

}  // namespace
}  // namespace bgpcomm::webhook
