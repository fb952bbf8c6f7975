// Every allocation rule of issue 14 item 1, each with its exact result and reason.
#include "allocator/allocator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "unit/allocator/test_support.h"

namespace bgpcomm::allocator {
namespace {

using ::testing::ElementsAre;
using testing::Holding;
using ::testing::IsEmpty;
using testing::Pool;
using testing::Svc;
using testing::With;

using Strings = std::vector<std::string>;

// An allocator over `pools`; fails the test when they are refused.
Allocator Make(std::vector<community::AddressPool> pools, Options options = {}) {
  Allocator a(std::move(options));
  auto set = a.SetPools(std::move(pools));
  EXPECT_TRUE(set.has_value());
  return a;
}

const Result& Up(Allocator& a, const Service& s) {
  a.Upsert(s);
  const Result* r = a.Find(s.Key());
  EXPECT_NE(r, nullptr);
  return *r;
}

// ---- pools: CIDRs, ranges, both families, lowest free first ------------------------------

TEST(Pools, LowestFreeAddressFirstFromACidr) {
  Allocator a = Make({Pool("p", {"198.51.100.0/30"})});
  EXPECT_THAT(Up(a, Svc("ns", "a")).addresses, ElementsAre("198.51.100.0"));
  EXPECT_THAT(Up(a, Svc("ns", "b")).addresses, ElementsAre("198.51.100.1"));
  const Result& c = Up(a, Svc("ns", "c"));
  EXPECT_THAT(c.addresses, ElementsAre("198.51.100.2"));
  EXPECT_EQ(c.pool, "p");
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.message, "");
  a.Remove("ns/a");
  EXPECT_THAT(Up(a, Svc("ns", "d")).addresses, ElementsAre("198.51.100.0"));
}

TEST(Pools, RangesAreTakenInOrderAndExhaust) {
  Allocator a = Make({Pool("p", {"198.51.100.10-198.51.100.11", "198.51.100.3/32"})});
  EXPECT_THAT(Up(a, Svc("ns", "a")).addresses, ElementsAre("198.51.100.10"));
  EXPECT_THAT(Up(a, Svc("ns", "b")).addresses, ElementsAre("198.51.100.11"));
  EXPECT_THAT(Up(a, Svc("ns", "c")).addresses, ElementsAre("198.51.100.3"));
  const Result& d = Up(a, Svc("ns", "d"));
  EXPECT_THAT(d.addresses, IsEmpty());
  EXPECT_EQ(d.reason, Reason::kPoolExhausted);
  EXPECT_EQ(d.message, "no free IPv4 address for this Service in pool \"p\"");
  EXPECT_TRUE(d.failed());
}

TEST(Pools, Ipv6RangesAndAHugeIpv6Pool) {
  Allocator a = Make({Pool("v6", {"2001:db8::/64"}), Pool("v6r", {"2001:db8:1::5-2001:db8:1::6"})});
  Service s = Svc("ns", "a");
  s.ip_families = {IpFamily::kIPv6};
  const Strings expected = {"2001:db8::", "2001:db8::1", "2001:db8::2"};
  for (int i = 0; i < 3; ++i) {
    s.name = "s" + std::to_string(i);
    EXPECT_THAT(Up(a, s).addresses, ElementsAre(expected[i]));
  }
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(*a.Counts("v6"), (PoolCounts{.assigned_ipv4 = 0,
                                         .assigned_ipv6 = 3,
                                         .available_ipv4 = 0,
                                         .available_ipv6 = kMax - 3}));
  s.name = "r";
  s = With(s, "metallb.io/address-pool", "v6r");
  EXPECT_THAT(Up(a, s).addresses, ElementsAre("2001:db8:1::5"));
}

TEST(Pools, AvoidBuggyIpsNeverGivesDotZeroOrDot255) {
  auto pool = Pool("p", {"198.51.100.255-198.51.101.1"});
  pool.avoid_buggy_ips = true;
  Allocator a = Make({pool});
  EXPECT_EQ(a.Counts("p")->available_ipv4, 1);
  EXPECT_THAT(Up(a, Svc("ns", "a")).addresses, ElementsAre("198.51.101.1"));
  const Result& b = Up(a, Svc("ns", "b"));
  EXPECT_EQ(b.reason, Reason::kPoolExhausted);
  // Nor when asked for explicitly.
  const Result& c = Up(a, With(Svc("ns", "c"), "metallb.io/loadBalancerIPs", "198.51.101.0"));
  EXPECT_EQ(c.reason, Reason::kOutsidePools);
  EXPECT_EQ(c.message,
            "metallb.io/loadBalancerIPs: 198.51.101.0 ends in .0 or .255 and pool \"p\" sets "
            "avoidBuggyIPs");
}

TEST(Pools, WithoutAvoidBuggyIpsDotZeroIsAnAddressLikeAnyOther) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  EXPECT_THAT(Up(a, Svc("ns", "a")).addresses, ElementsAre("198.51.100.0"));
}

TEST(Pools, AutoAssignFalseOnlyServesExplicitRequests) {
  auto manual = Pool("manual", {"198.51.100.0/30"});
  manual.auto_assign = false;
  Allocator a = Make({manual});
  const Result& r = Up(a, Svc("ns", "a"));
  EXPECT_EQ(r.reason, Reason::kNoEligiblePool);
  EXPECT_EQ(r.message,
            "no IPAddressPool may assign this Service an address automatically: \"manual\" "
            "(autoAssign false)");
  EXPECT_THAT(Up(a, With(Svc("ns", "b"), "metallb.io/address-pool", "manual")).addresses,
              ElementsAre("198.51.100.0"));
  EXPECT_THAT(Up(a, With(Svc("ns", "c"), "metallb.io/loadBalancerIPs", "198.51.100.3")).addresses,
              ElementsAre("198.51.100.3"));
}

TEST(Pools, PoolsWithoutServiceAllocationAreTriedByName) {
  Allocator a = Make({Pool("b", {"198.51.100.0/32"}), Pool("a", {"198.51.100.8/32"})});
  EXPECT_THAT(Up(a, Svc("ns", "x")).addresses, ElementsAre("198.51.100.8"));
  EXPECT_THAT(Up(a, Svc("ns", "y")).addresses, ElementsAre("198.51.100.0"));
  const Result& z = Up(a, Svc("ns", "z"));
  EXPECT_EQ(z.message, "no free IPv4 address for this Service in pools \"a\", \"b\"");
}

TEST(Pools, NoPoolAtAll) {
  Allocator a;
  const Result& r = Up(a, Svc("ns", "a"));
  EXPECT_EQ(r.reason, Reason::kNoEligiblePool);
  EXPECT_EQ(r.message, "no IPAddressPool exists");
}

// ---- serviceAllocation ----------------------------------------------------------------

community::AddressPool Allocating(std::string name, std::vector<std::string> addresses,
                                  community::ServiceAllocation sa) {
  auto p = Pool(std::move(name), std::move(addresses));
  p.service_allocation = std::move(sa);
  return p;
}

community::LabelSelector Labels(std::map<std::string, std::string> labels) {
  return community::LabelSelector{.match_labels = std::move(labels)};
}

TEST(ServiceAllocation, PriorityOrdersPinnedPoolsBeforeOpenOnes) {
  Allocator a = Make({
      Pool("open", {"198.51.100.0/32"}),
      Allocating("low", {"198.51.100.1/32"}, {.priority = 20}),
      Allocating("high", {"198.51.100.2/32"}, {.priority = 10}),
      Allocating("none", {"198.51.100.3/32"}, {}),
  });
  EXPECT_THAT(Up(a, Svc("ns", "a")).addresses, ElementsAre("198.51.100.2"));  // priority 10
  EXPECT_THAT(Up(a, Svc("ns", "b")).addresses, ElementsAre("198.51.100.1"));  // priority 20
  EXPECT_THAT(Up(a, Svc("ns", "c")).addresses, ElementsAre("198.51.100.3"));  // no priority
  EXPECT_THAT(Up(a, Svc("ns", "d")).addresses, ElementsAre("198.51.100.0"));  // open pool
}

TEST(ServiceAllocation, NamespacesAndNamespaceSelectors) {
  Allocator a = Make({
      Allocating("team", {"198.51.100.0/31"},
                 {.namespaces = {"red"}, .namespace_selectors = {Labels({{"team", "blue"}})}}),
      Pool("open", {"198.51.100.8/31"}),
  });
  EXPECT_THAT(Up(a, Svc("red", "a")).addresses, ElementsAre("198.51.100.0"));
  Service blue = Svc("blue-ns", "b");
  blue.namespace_labels = {{"team", "blue"}};
  EXPECT_THAT(Up(a, blue).addresses, ElementsAre("198.51.100.1"));
  EXPECT_THAT(Up(a, Svc("green", "c")).addresses, ElementsAre("198.51.100.8"));
  // The team pool is full: red falls back to the open pool, as MetalLB does.
  EXPECT_THAT(Up(a, Svc("red", "d")).addresses, ElementsAre("198.51.100.9"));
  // An explicit request from another namespace is refused with the reason.
  const Result& e = Up(a, With(Svc("green", "e"), "metallb.universe.tf/address-pool", "team"));
  EXPECT_EQ(e.reason, Reason::kPoolNotAllowed);
  EXPECT_EQ(e.message,
            "metallb.universe.tf/address-pool: pool \"team\" serviceAllocation does not admit "
            "namespace \"green\" (namespaces or namespaceSelectors)");
}

TEST(ServiceAllocation, ServiceSelectors) {
  Allocator a = Make({
      Allocating("web", {"198.51.100.0/31"}, {.service_selectors = {Labels({{"app", "web"}})}}),
  });
  Service web = Svc("ns", "w");
  web.labels = {{"app", "web"}};
  EXPECT_THAT(Up(a, web).addresses, ElementsAre("198.51.100.0"));
  const Result& other = Up(a, Svc("ns", "o"));
  EXPECT_EQ(other.reason, Reason::kNoEligiblePool);
  EXPECT_EQ(other.message,
            "no IPAddressPool may assign this Service an address automatically: \"web\" "
            "(serviceAllocation.serviceSelectors match none of the Service's labels)");
  const Result& asked = Up(a, With(Svc("ns", "q"), "metallb.io/loadBalancerIPs", "198.51.100.1"));
  EXPECT_EQ(asked.reason, Reason::kPoolNotAllowed);
  EXPECT_EQ(asked.message,
            "metallb.io/loadBalancerIPs: pool \"web\" serviceAllocation.serviceSelectors match "
            "none of the Service's labels");
}

TEST(ServiceAllocation, ANamespaceSelectorMatchingNoNamespaceAdmitsNobody) {
  Allocator a = Make({Allocating("p", {"198.51.100.0/31"},
                                 {.namespace_selectors = {Labels({{"team", "none"}})}})});
  const Result& r = Up(a, With(Svc("ns", "a"), "metallb.io/address-pool", "p"));
  EXPECT_EQ(r.reason, Reason::kPoolNotAllowed);
}

// ---- annotations and spec.loadBalancerIP -----------------------------------------------

TEST(Annotations, AddressPoolInBothSpellings) {
  Allocator a = Make({Pool("a", {"198.51.100.0/31"}), Pool("b", {"198.51.100.8/31"})});
  EXPECT_THAT(Up(a, With(Svc("ns", "x"), "metallb.io/address-pool", "b")).addresses,
              ElementsAre("198.51.100.8"));
  EXPECT_THAT(Up(a, With(Svc("ns", "y"), "metallb.universe.tf/address-pool", "b")).addresses,
              ElementsAre("198.51.100.9"));
  // metallb.io wins when both are present.
  Service both = With(With(Svc("ns", "z"), "metallb.io/address-pool", "a"),
                      "metallb.universe.tf/address-pool", "b");
  EXPECT_THAT(Up(a, both).addresses, ElementsAre("198.51.100.0"));
}

TEST(Annotations, UnknownPool) {
  Allocator a = Make({Pool("a", {"198.51.100.0/31"})});
  const Result& r = Up(a, With(Svc("ns", "x"), "metallb.io/address-pool", "nope"));
  EXPECT_EQ(r.reason, Reason::kUnknownPool);
  EXPECT_EQ(r.message, "metallb.io/address-pool: no IPAddressPool named \"nope\"");
}

TEST(Annotations, ExhaustedRequestedPool) {
  Allocator a = Make({Pool("a", {"198.51.100.0/32"}), Pool("b", {"198.51.100.8/32"})});
  Up(a, With(Svc("ns", "x"), "metallb.io/address-pool", "a"));
  const Result& r = Up(a, With(Svc("ns", "y"), "metallb.io/address-pool", "a"));
  EXPECT_EQ(r.reason, Reason::kPoolExhausted);
  EXPECT_EQ(r.message,
            "metallb.io/address-pool: pool \"a\" has no free IPv4 address for this Service");
}

TEST(Annotations, LoadBalancerIpsInBothSpellingsAndDualStack) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24", "2001:db8::/120"})});
  EXPECT_THAT(Up(a, With(Svc("ns", "a"), "metallb.io/loadBalancerIPs", "198.51.100.7")).addresses,
              ElementsAre("198.51.100.7"));
  EXPECT_THAT(
      Up(a, With(Svc("ns", "b"), "metallb.universe.tf/loadBalancerIPs", "198.51.100.8")).addresses,
      ElementsAre("198.51.100.8"));
  Service dual = With(Svc("ns", "c"), "metallb.io/loadBalancerIPs", "2001:db8::9, 198.51.100.9");
  dual.ip_families = {IpFamily::kIPv6, IpFamily::kIPv4};
  dual.ip_family_policy = IpFamilyPolicy::kRequireDualStack;
  EXPECT_THAT(Up(a, dual).addresses, ElementsAre("2001:db8::9", "198.51.100.9"));
}

TEST(Annotations, SpecLoadBalancerIp) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Service s = Svc("ns", "a");
  s.load_balancer_ip = "198.51.100.20";
  EXPECT_THAT(Up(a, s).addresses, ElementsAre("198.51.100.20"));
  s.name = "b";
  s.load_balancer_ip = "198.51.100.300";
  const Result& bad = Up(a, s);
  EXPECT_EQ(bad.reason, Reason::kMalformedRequest);
  EXPECT_EQ(bad.message, "spec.loadBalancerIP \"198.51.100.300\" is not an IP address");
}

TEST(Annotations, BothLoadBalancerIpsAndSpecLoadBalancerIp) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Service s = With(Svc("ns", "a"), "metallb.io/loadBalancerIPs", "198.51.100.1");
  s.load_balancer_ip = "198.51.100.2";
  const Result& r = Up(a, s);
  EXPECT_EQ(r.reason, Reason::kConflictingRequest);
  EXPECT_EQ(r.message,
            "metallb.io/loadBalancerIPs \"198.51.100.1\" and spec.loadBalancerIP "
            "\"198.51.100.2\" are both set; set only one");
}

TEST(Annotations, MalformedLoadBalancerIps) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  const Result& r = Up(a, With(Svc("ns", "a"), "metallb.io/loadBalancerIPs", "not-an-ip"));
  EXPECT_EQ(r.reason, Reason::kMalformedRequest);
  EXPECT_EQ(r.message,
            "metallb.io/loadBalancerIPs \"not-an-ip\": \"not-an-ip\" is not an IP address");
  EXPECT_THAT(r.addresses, IsEmpty());
  const Result& two =
      Up(a, With(Svc("ns", "b"), "metallb.io/loadBalancerIPs", "198.51.100.1,198.51.100.2"));
  EXPECT_EQ(two.message,
            "metallb.io/loadBalancerIPs \"198.51.100.1,198.51.100.2\": two IPv4 addresses; give "
            "one per family");
  // Nothing else is disturbed: another Service still gets the lowest address.
  EXPECT_THAT(Up(a, Svc("ns", "c")).addresses, ElementsAre("198.51.100.0"));
}

TEST(Annotations, MalformedAnnotationKeepsAHeldAddress) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Service s = Holding(Svc("ns", "a"), {"198.51.100.5"});
  EXPECT_THAT(Up(a, s).addresses, ElementsAre("198.51.100.5"));
  s = With(s, "metallb.io/loadBalancerIPs", "not-an-ip");
  const Result& r = Up(a, s);
  EXPECT_THAT(r.addresses, ElementsAre("198.51.100.5"));
  EXPECT_EQ(r.reason, Reason::kMalformedRequest);
  EXPECT_EQ(r.message,
            "metallb.io/loadBalancerIPs \"not-an-ip\": \"not-an-ip\" is not an IP address; "
            "keeping 198.51.100.5");
}

TEST(Annotations, RequestedAddressOutsideEveryPool) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  const Result& r = Up(a, With(Svc("ns", "a"), "metallb.io/loadBalancerIPs", "203.0.113.1"));
  EXPECT_EQ(r.reason, Reason::kOutsidePools);
  EXPECT_EQ(r.message, "metallb.io/loadBalancerIPs: 203.0.113.1 is in no IPAddressPool");
}

TEST(Annotations, RequestedAddressInUse) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Up(a, With(Svc("ns", "a"), "metallb.io/loadBalancerIPs", "198.51.100.4"));
  const Result& r = Up(a, With(Svc("ns", "b"), "metallb.io/loadBalancerIPs", "198.51.100.4"));
  EXPECT_EQ(r.reason, Reason::kAddressInUse);
  EXPECT_EQ(r.message,
            "metallb.io/loadBalancerIPs: 198.51.100.4 is held by ns/a, which does not allow "
            "sharing (no metallb.io/allow-shared-ip)");
  // When the holder goes, the waiting Service gets it.
  Changes changes = a.Remove("ns/a");
  EXPECT_THAT(changes.services, ElementsAre("ns/a", "ns/b"));
  EXPECT_THAT(a.Find("ns/b")->addresses, ElementsAre("198.51.100.4"));
}

TEST(Annotations, RequestedAddressAndPoolDisagree) {
  Allocator a = Make({Pool("a", {"198.51.100.0/24"}), Pool("b", {"203.0.113.0/24"})});
  Service s = With(With(Svc("ns", "x"), "metallb.io/loadBalancerIPs", "198.51.100.4"),
                   "metallb.io/address-pool", "b");
  const Result& r = Up(a, s);
  EXPECT_EQ(r.reason, Reason::kConflictingRequest);
  EXPECT_EQ(r.message,
            "metallb.io/loadBalancerIPs asks for 198.51.100.4, which is in pool \"a\", but "
            "metallb.io/address-pool asks for pool \"b\"");
}

// ---- sharing ---------------------------------------------------------------------------

Service Shared(std::string name, std::string key, std::int64_t port, std::string ip = "") {
  Service s = With(Svc("ns", std::move(name)), "metallb.io/allow-shared-ip", std::move(key));
  s.ports = {{"TCP", port}};
  if (!ip.empty()) s = With(s, "metallb.io/loadBalancerIPs", ip);
  return s;
}

TEST(Sharing, SameKeyDistinctPortsShareOneAddress) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  EXPECT_THAT(Up(a, Shared("a", "k", 80)).addresses, ElementsAre("198.51.100.0"));
  // Automatic allocation packs it onto the shareable address, as MetalLB does.
  EXPECT_THAT(Up(a, Shared("b", "k", 443)).addresses, ElementsAre("198.51.100.0"));
  EXPECT_THAT(Up(a, Shared("c", "k", 80)).addresses, ElementsAre("198.51.100.1"));
  EXPECT_EQ(a.Counts("p")->assigned_ipv4, 2);
  // The legacy spelling is the same key.
  Service legacy = With(Svc("ns", "d"), "metallb.universe.tf/allow-shared-ip", "k");
  legacy.ports = {{"UDP", 53}};
  EXPECT_THAT(Up(a, legacy).addresses, ElementsAre("198.51.100.0"));
}

TEST(Sharing, OverlappingPortsAreRefused) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Up(a, Shared("a", "k", 80, "198.51.100.9"));
  const Result& r = Up(a, Shared("b", "k", 80, "198.51.100.9"));
  EXPECT_EQ(r.reason, Reason::kSharingRefused);
  EXPECT_EQ(r.message,
            "metallb.io/loadBalancerIPs: port TCP/80 of 198.51.100.9 is already used by ns/a");
  // Same port number, other protocol: fine.
  Service udp = Shared("c", "k", 80, "198.51.100.9");
  udp.ports = {{"UDP", 80}};
  EXPECT_THAT(Up(a, udp).addresses, ElementsAre("198.51.100.9"));
}

TEST(Sharing, DifferentKeysOrNoKeyAreRefused) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Up(a, Shared("a", "k", 80, "198.51.100.9"));
  const Result& other = Up(a, Shared("b", "other", 443, "198.51.100.9"));
  EXPECT_EQ(other.reason, Reason::kSharingRefused);
  EXPECT_EQ(other.message,
            "metallb.io/loadBalancerIPs: 198.51.100.9 is held by ns/a with sharing key \"k\", "
            "this Service has \"other\"");
  Service none = With(Svc("ns", "c"), "metallb.io/loadBalancerIPs", "198.51.100.9");
  none.ports = {{"TCP", 8080}};
  const Result& r = Up(a, none);
  EXPECT_EQ(r.reason, Reason::kAddressInUse);
  EXPECT_EQ(r.message,
            "metallb.io/loadBalancerIPs: 198.51.100.9 is held by ns/a (sharing key \"k\"); this "
            "Service has no metallb.io/allow-shared-ip");
}

TEST(Sharing, TrafficPolicyMustBeCompatible) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Service local = Shared("a", "k", 80, "198.51.100.9");
  local.external_traffic_policy = TrafficPolicy::kLocal;
  local.selector = {{"app", "web"}};
  Up(a, local);
  // Local with the same selector: shares.
  Service same = Shared("b", "k", 443, "198.51.100.9");
  same.external_traffic_policy = TrafficPolicy::kLocal;
  same.selector = {{"app", "web"}};
  EXPECT_THAT(Up(a, same).addresses, ElementsAre("198.51.100.9"));
  // Local with another selector: refused.
  Service other = Shared("c", "k", 8080, "198.51.100.9");
  other.external_traffic_policy = TrafficPolicy::kLocal;
  other.selector = {{"app", "db"}};
  const Result& r = Up(a, other);
  EXPECT_EQ(r.reason, Reason::kSharingRefused);
  EXPECT_EQ(r.message,
            "metallb.io/loadBalancerIPs: 198.51.100.9 is held by ns/a with externalTrafficPolicy "
            "Local with selector app=web, this Service has externalTrafficPolicy Local with "
            "selector app=db");
  // Cluster against Local: refused.
  const Result& cluster = Up(a, Shared("d", "k", 9090, "198.51.100.9"));
  EXPECT_EQ(cluster.reason, Reason::kSharingRefused);
  // Two Cluster Services share whatever their selectors.
  Allocator c = Make({Pool("p", {"198.51.100.0/24"})});
  Service x = Shared("x", "k", 80);
  x.selector = {{"app", "x"}};
  Service y = Shared("y", "k", 81);
  y.selector = {{"app", "y"}};
  EXPECT_THAT(Up(c, x).addresses, ElementsAre("198.51.100.0"));
  EXPECT_THAT(Up(c, y).addresses, ElementsAre("198.51.100.0"));
}

TEST(Sharing, AServiceMayChangeItsPortsOrKeyWhileAlone) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Service s = Shared("a", "k", 80, "198.51.100.9");
  Up(a, s);
  s.annotations["metallb.io/allow-shared-ip"] = "k2";
  s.ports = {{"TCP", 443}};
  EXPECT_THAT(Up(a, Holding(s, {"198.51.100.9"})).addresses, ElementsAre("198.51.100.9"));
}

// ---- families ---------------------------------------------------------------------------

TEST(Families, SingleStackIpv6SkipsPoolsWithoutIpv6) {
  Allocator a = Make({Pool("a", {"198.51.100.0/24"}), Pool("b", {"2001:db8::/120"})});
  Service s = Svc("ns", "x");
  s.ip_families = {IpFamily::kIPv6};
  const Result& r = Up(a, s);
  EXPECT_THAT(r.addresses, ElementsAre("2001:db8::"));
  EXPECT_EQ(r.pool, "b");
}

TEST(Families, RequireDualStackTakesOneAddressPerFamilyFromOnePool) {
  Allocator a =
      Make({Pool("v4", {"198.51.100.0/24"}), Pool("z-dual", {"2001:db8::/120", "203.0.113.0/24"})});
  Service s = Svc("ns", "x");
  s.ip_families = {IpFamily::kIPv4, IpFamily::kIPv6};
  s.ip_family_policy = IpFamilyPolicy::kRequireDualStack;
  const Result& r = Up(a, s);
  EXPECT_THAT(r.addresses, ElementsAre("203.0.113.0", "2001:db8::"));
  EXPECT_EQ(r.pool, "z-dual");
  EXPECT_EQ(
      *a.Counts("z-dual"),
      (PoolCounts{
          .assigned_ipv4 = 1, .assigned_ipv6 = 1, .available_ipv4 = 255, .available_ipv6 = 255}));
}

TEST(Families, RequireDualStackWithoutADualPool) {
  Allocator a = Make({Pool("v4", {"198.51.100.0/24"})});
  Service s = Svc("ns", "x");
  s.ip_family_policy = IpFamilyPolicy::kRequireDualStack;  // ipFamilies defaulted
  const Result& r = Up(a, s);
  EXPECT_EQ(r.reason, Reason::kNoEligiblePool);
  EXPECT_EQ(r.message,
            "no IPAddressPool that may serve this Service has IPv4 and IPv6 addresses (tried "
            "\"v4\")");
  s.ip_families = {IpFamily::kIPv4};
  const Result& one = Up(a, s);
  EXPECT_EQ(one.reason, Reason::kConflictingRequest);
  EXPECT_EQ(one.message,
            "spec.ipFamilyPolicy RequireDualStack needs both families, but spec.ipFamilies lists "
            "only IPv4");
}

TEST(Families, PreferDualStackFallsBackToThePrimaryFamily) {
  Allocator a = Make({Pool("v4", {"198.51.100.0/24"}), Pool("v6", {"2001:db8::/120"})});
  Service s = Svc("ns", "x");
  s.ip_families = {IpFamily::kIPv6, IpFamily::kIPv4};
  s.ip_family_policy = IpFamilyPolicy::kPreferDualStack;
  const Result& r = Up(a, s);
  EXPECT_THAT(r.addresses, ElementsAre("2001:db8::"));  // IPv6 is primary
  EXPECT_TRUE(r.ok());
}

TEST(Families, PreferDualStackAddsTheMissingFamilyToAHeldAddress) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Service s = Svc("ns", "x");
  s.ip_families = {IpFamily::kIPv4, IpFamily::kIPv6};
  s.ip_family_policy = IpFamilyPolicy::kPreferDualStack;
  EXPECT_THAT(Up(a, s).addresses, ElementsAre("198.51.100.0"));
  // The pool grows an IPv6 range: the Service keeps its IPv4 address and gains one.
  auto changes = a.SetPools({Pool("p", {"198.51.100.0/24", "2001:db8::/120"})});
  ASSERT_TRUE(changes);
  const Result* r = a.Find("ns/x");
  EXPECT_THAT(r->addresses, ElementsAre("198.51.100.0", "2001:db8::"));
  EXPECT_THAT(r->notes, ElementsAre("PreferDualStack: added 2001:db8:: from pool \"p\""));
  EXPECT_THAT(changes->services, ElementsAre("ns/x"));
  EXPECT_THAT(changes->pools, ElementsAre("p"));
}

TEST(Families, PreferDualStackOnASingleStackServiceStaysSingle) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24", "2001:db8::/120"})});
  Service s = Svc("ns", "x");
  s.ip_families = {IpFamily::kIPv4};
  s.ip_family_policy = IpFamilyPolicy::kPreferDualStack;
  EXPECT_THAT(Up(a, s).addresses, ElementsAre("198.51.100.0"));
  EXPECT_THAT(Up(a, Holding(s, {"198.51.100.0"})).addresses, ElementsAre("198.51.100.0"));
}

TEST(Families, RequestedAddressesMustMatchTheFamilies) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24", "2001:db8::/120"})});
  Service s = With(Svc("ns", "x"), "metallb.io/loadBalancerIPs", "198.51.100.3");
  s.ip_families = {IpFamily::kIPv6};
  const Result& r = Up(a, s);
  EXPECT_EQ(r.reason, Reason::kConflictingRequest);
  EXPECT_EQ(r.message,
            "metallb.io/loadBalancerIPs asks for 198.51.100.3 (IPv4) but spec.ipFamilies is IPv6");
}

TEST(Families, AHeldAddressOfTheWrongFamilyIsReplaced) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24", "2001:db8::/120"})});
  Service s = Holding(Svc("ns", "x"), {"198.51.100.7"});
  s.ip_families = {IpFamily::kIPv6};
  const Result& r = Up(a, s);
  EXPECT_THAT(r.addresses, ElementsAre("2001:db8::"));
  EXPECT_THAT(r.notes,
              ElementsAre("held 198.51.100.7 does not match spec.ipFamilies (IPv6); replaced"));
}

// ---- loadBalancerClass and type ------------------------------------------------------------

TEST(Class, WithoutLbClassOnlyServicesWithoutAClass) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Service s = Svc("ns", "x");
  s.load_balancer_class = "example.com/other";
  const Result& r = Up(a, s);
  EXPECT_EQ(r.reason, Reason::kNotOurs);
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.message,
            "spec.loadBalancerClass \"example.com/other\" is not served: this allocator serves "
            "Services without a class (--lb-class unset)");
  EXPECT_THAT(r.addresses, IsEmpty());
}

TEST(Class, WithLbClassOnlyThatClass) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})}, Options{.load_balancer_class = "bgpcomm"});
  const Result& none = Up(a, Svc("ns", "x"));
  EXPECT_EQ(none.reason, Reason::kNotOurs);
  EXPECT_EQ(none.message, "spec.loadBalancerClass unset is not \"bgpcomm\" (--lb-class)");
  Service ours = Svc("ns", "y");
  ours.load_balancer_class = "bgpcomm";
  EXPECT_THAT(Up(a, ours).addresses, ElementsAre("198.51.100.0"));
}

TEST(Type, AServiceThatStopsBeingALoadBalancerFreesItsAddress) {
  Allocator a = Make({Pool("p", {"198.51.100.0/32"})});
  Service s = Svc("ns", "x");
  EXPECT_THAT(Up(a, s).addresses, ElementsAre("198.51.100.0"));
  EXPECT_EQ(Up(a, Svc("ns", "y")).reason, Reason::kPoolExhausted);
  s.type = "ClusterIP";
  Changes changes = a.Upsert(Holding(s, {"198.51.100.0"}));
  EXPECT_THAT(changes.services, ElementsAre("ns/x", "ns/y"));
  EXPECT_EQ(a.Find("ns/x")->reason, Reason::kNotLoadBalancer);
  EXPECT_EQ(a.Find("ns/x")->message, "spec.type \"ClusterIP\" is not LoadBalancer");
  EXPECT_THAT(a.Find("ns/y")->addresses, ElementsAre("198.51.100.0"));
}

// ---- stability -----------------------------------------------------------------------------

TEST(Stability, AHeldValidAddressNeverMoves) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  // A restart: the Service holds .9 although .0 is free.
  EXPECT_THAT(Up(a, Holding(Svc("ns", "x"), {"198.51.100.9"})).addresses,
              ElementsAre("198.51.100.9"));
  // Unrelated changes do not move it.
  Service y = Svc("ns", "y");
  EXPECT_THAT(Up(a, y).addresses, ElementsAre("198.51.100.0"));
  a.Remove("ns/y");
  a.SetPools({Pool("p", {"198.51.100.0/24"}), Pool("q", {"203.0.113.0/24"})});
  EXPECT_THAT(a.Find("ns/x")->addresses, ElementsAre("198.51.100.9"));
  // A resync with the same status changes nothing.
  EXPECT_TRUE(a.Upsert(Holding(Svc("ns", "x"), {"198.51.100.9"})).empty());
}

TEST(Stability, TheDecisionStandsWhileTheStatusIsNotWrittenYet) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Service x = Svc("ns", "x");
  EXPECT_THAT(Up(a, Svc("ns", "w")).addresses, ElementsAre("198.51.100.0"));
  EXPECT_THAT(Up(a, x).addresses, ElementsAre("198.51.100.1"));
  a.Remove("ns/w");  // .0 is free again
  x.labels = {{"changed", "yes"}};
  EXPECT_THAT(Up(a, x).addresses, ElementsAre("198.51.100.1"));
}

TEST(Stability, AnAddressThatLeftItsPoolIsReplaced) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Up(a, Holding(Svc("ns", "x"), {"198.51.100.9"}));
  auto changes = a.SetPools({Pool("p", {"198.51.100.0/29"})});
  ASSERT_TRUE(changes);
  const Result* r = a.Find("ns/x");
  EXPECT_THAT(r->addresses, ElementsAre("198.51.100.0"));
  EXPECT_THAT(r->notes, ElementsAre("held 198.51.100.9 is no longer valid (198.51.100.9 is in no "
                                    "IPAddressPool); replaced"));
  EXPECT_THAT(changes->services, ElementsAre("ns/x"));
  // A status outside every pool at start-up is replaced the same way.
  const Result& y = Up(a, Holding(Svc("ns", "y"), {"203.0.113.5"}));
  EXPECT_THAT(y.addresses, ElementsAre("198.51.100.1"));
}

TEST(Stability, AHeldAddressTheNamespaceMayNoLongerUseIsReplaced) {
  Allocator a = Make({Allocating("p", {"198.51.100.0/24"}, {.namespaces = {"ns"}}),
                      Pool("open", {"203.0.113.0/24"})});
  Up(a, Holding(Svc("ns", "x"), {"198.51.100.9"}));
  a.SetPools({Allocating("p", {"198.51.100.0/24"}, {.namespaces = {"other"}}),
              Pool("open", {"203.0.113.0/24"})});
  EXPECT_THAT(a.Find("ns/x")->addresses, ElementsAre("203.0.113.0"));
}

TEST(Stability, AHeldAddressStaysWhenItsPoolStopsAutoAssigning) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Up(a, Svc("ns", "x"));
  auto manual = Pool("p", {"198.51.100.0/24"});
  manual.auto_assign = false;
  a.SetPools({manual});
  EXPECT_THAT(a.Find("ns/x")->addresses, ElementsAre("198.51.100.0"));
}

TEST(Stability, AHeldAddressTakenByAnotherGoesToTheFirstHolder) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Up(a, Holding(Svc("ns", "x"), {"198.51.100.9"}));
  const Result& y = Up(a, Holding(Svc("ns", "y"), {"198.51.100.9"}));
  EXPECT_THAT(y.addresses, ElementsAre("198.51.100.0"));
  EXPECT_THAT(y.notes, ElementsAre("held 198.51.100.9 is no longer valid (198.51.100.9 is held "
                                   "by ns/x, which does not allow sharing (no "
                                   "metallb.io/allow-shared-ip)); replaced"));
}

TEST(Stability, UpsertAllJudgesHeldAddressesFirst) {
  // "a" sorts first and holds nothing; "b" holds the lowest address: "a" must not take it.
  std::vector<Service> services = {Svc("ns", "a"), Holding(Svc("ns", "b"), {"198.51.100.0"})};
  auto all = AllocateAll({Pool("p", {"198.51.100.0/24"})}, services);
  ASSERT_TRUE(all);
  EXPECT_THAT(all->results[0].addresses, ElementsAre("198.51.100.1"));
  EXPECT_THAT(all->results[1].addresses, ElementsAre("198.51.100.0"));
  EXPECT_EQ(all->counts.at("p").assigned_ipv4, 2);
}

TEST(Stability, RequestingADifferentPoolOrAddressMovesTheService) {
  Allocator a = Make({Pool("a", {"198.51.100.0/24"}), Pool("b", {"203.0.113.0/24"})});
  Service s = Svc("ns", "x");
  EXPECT_THAT(Up(a, s).addresses, ElementsAre("198.51.100.0"));
  s = Holding(With(s, "metallb.io/address-pool", "b"), {"198.51.100.0"});
  const Result& moved = Up(a, s);
  EXPECT_THAT(moved.addresses, ElementsAre("203.0.113.0"));
  EXPECT_THAT(moved.notes, ElementsAre("held 198.51.100.0 is in pool \"a\" but "
                                       "metallb.io/address-pool asks for \"b\"; replaced"));
  s = Holding(With(s, "metallb.io/loadBalancerIPs", "203.0.113.7"), {"203.0.113.0"});
  EXPECT_THAT(Up(a, s).addresses, ElementsAre("203.0.113.7"));
}

TEST(Stability, APoolThatGrowsServesWaitingServices) {
  Allocator a = Make({Pool("p", {"198.51.100.0/32"})});
  Up(a, Svc("ns", "a"));
  EXPECT_EQ(Up(a, Svc("ns", "b")).reason, Reason::kPoolExhausted);
  auto changes = a.SetPools({Pool("p", {"198.51.100.0/31"})});
  ASSERT_TRUE(changes);
  EXPECT_THAT(a.Find("ns/a")->addresses, ElementsAre("198.51.100.0"));
  EXPECT_THAT(a.Find("ns/b")->addresses, ElementsAre("198.51.100.1"));
  EXPECT_THAT(changes->services, ElementsAre("ns/b"));
}

TEST(Stability, AServiceWhoseAddressLeftDoesNotTakeOneAnotherStillHolds) {
  Allocator a = Make({Pool("p", {"198.51.100.0/30"}), Pool("q", {"203.0.113.0/32"})});
  Up(a, Holding(Svc("ns", "a"), {"203.0.113.0"}));
  Up(a, Holding(Svc("ns", "b"), {"198.51.100.0"}));
  // q goes and p changes: both are judged again; "a" sorts first but must not take .0.
  auto changes = a.SetPools({Pool("p", {"198.51.100.0/30", "198.51.100.8/30"})});
  ASSERT_TRUE(changes);
  EXPECT_THAT(a.Find("ns/b")->addresses, ElementsAre("198.51.100.0"));
  EXPECT_THAT(a.Find("ns/a")->addresses, ElementsAre("198.51.100.1"));
  EXPECT_THAT(changes->services, ElementsAre("ns/a"));
}

TEST(Sharing, AWaitingServiceIsServedWhenAnAddressBecomesShareable) {
  Allocator a = Make({Pool("p", {"198.51.100.0/32"})});
  Service holder = Svc("ns", "a");
  EXPECT_THAT(Up(a, holder).addresses, ElementsAre("198.51.100.0"));
  Service waiting = Shared("w", "k", 443);
  EXPECT_EQ(Up(a, waiting).reason, Reason::kPoolExhausted);
  holder = Holding(With(holder, "metallb.io/allow-shared-ip", "k"), {"198.51.100.0"});
  Changes changes = a.Upsert(holder);
  EXPECT_THAT(changes.services, ElementsAre("ns/w"));
  EXPECT_THAT(a.Find("ns/w")->addresses, ElementsAre("198.51.100.0"));
}

// ---- pools refused, counts, changes ------------------------------------------------------------

TEST(SetPools, AnInvalidSetIsRefusedWholeAndThePreviousStays) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Up(a, Svc("ns", "x"));
  auto refused = a.SetPools({Pool("p", {"198.51.100.0/24"}), Pool("q", {"198.51.100.128/25"}),
                             Pool("r", {"bogus"}), Pool("s", {})});
  ASSERT_FALSE(refused);
  Strings messages;
  for (const auto& d : refused.error()) messages.push_back(d.ToString());
  EXPECT_THAT(messages,
              ElementsAre("r.spec.addresses[0]: \"bogus\" is neither a CIDR (address/length) nor "
                          "a range (first-last)",
                          "s.spec.addresses: the pool has no addresses",
                          "q.spec.addresses[0]: \"198.51.100.128/25\" overlaps p.spec.addresses[0] "
                          "(\"198.51.100.0/24\")"));
  EXPECT_THAT(a.Find("ns/x")->addresses, ElementsAre("198.51.100.0"));
  EXPECT_TRUE(a.Counts("p").has_value());
  EXPECT_FALSE(a.Counts("q").has_value());
}

TEST(SetPools, ServiceAllocationChecks) {
  auto dup = Allocating("p", {"198.51.100.0/24"},
                        {.namespaces = {"a", "a"},
                         .service_selectors = {Labels({{"x", "y"}}), Labels({{"x", "y"}})}});
  Strings messages;
  for (const auto& d : ValidatePools(std::vector{dup})) messages.push_back(d.ToString());
  EXPECT_THAT(messages,
              ElementsAre("p.spec.serviceAllocation.namespaces[1]: namespace \"a\" is listed twice",
                          "p.spec.serviceAllocation.serviceSelectors[1]: the same selector as "
                          "p.spec.serviceAllocation.serviceSelectors[0]"));
}

TEST(Counts, SharedAddressesCountOnceAndRemovedPoolsAreReported) {
  Allocator a = Make({Pool("p", {"198.51.100.0/30"}), Pool("q", {"203.0.113.0/30"})});
  Up(a, Shared("a", "k", 80));
  Changes c = a.Upsert(Shared("b", "k", 81));
  EXPECT_THAT(c.services, ElementsAre("ns/b"));
  EXPECT_THAT(c.pools, IsEmpty());  // the shared address was counted already
  EXPECT_EQ(*a.Counts("p"), (PoolCounts{.assigned_ipv4 = 1, .available_ipv4 = 3}));
  auto removed = a.SetPools({Pool("q", {"203.0.113.0/30"})});
  ASSERT_TRUE(removed);
  EXPECT_THAT(removed->pools, ElementsAre("p", "q"));
  EXPECT_THAT(removed->services, ElementsAre("ns/a", "ns/b"));
  EXPECT_THAT(a.Find("ns/a")->addresses, ElementsAre("203.0.113.0"));
  EXPECT_THAT(a.Find("ns/b")->addresses, ElementsAre("203.0.113.0"));
}

TEST(Changes, AnUnchangedServiceIsANoOp) {
  Allocator a = Make({Pool("p", {"198.51.100.0/24"})});
  Service s = Svc("ns", "x");
  Changes first = a.Upsert(s);
  EXPECT_THAT(first.services, ElementsAre("ns/x"));
  EXPECT_THAT(first.pools, ElementsAre("p"));
  EXPECT_TRUE(a.Upsert(s).empty());
  EXPECT_TRUE(a.Upsert(Holding(s, {"198.51.100.0"})).empty());
  EXPECT_TRUE(a.Remove("ns/nothing").empty());
  EXPECT_EQ(a.size(), 1u);
}

TEST(Reasons, EveryReasonHasAName) {
  EXPECT_EQ(Name(Reason::kPoolExhausted), "PoolExhausted");
  EXPECT_EQ(Name(Reason::kSharingRefused), "SharingRefused");
  EXPECT_EQ(ParseIpFamilyPolicy("PreferDualStack"), IpFamilyPolicy::kPreferDualStack);
  EXPECT_EQ(ParseIpFamily("IPv7"), std::nullopt);
  EXPECT_EQ(ParseTrafficPolicy(""), TrafficPolicy::kCluster);
}

}  // namespace
}  // namespace bgpcomm::allocator
