// What the allocator reads of a Service, and what it decides for it.
//
// The adapter (the controller in the webhook leader, or `bgpcomm routes` reading manifests)
// copies these fields out of a core/v1 Service; the allocator parses the annotations and
// addresses itself, so that every malformed value is reported with its name and value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bgpcomm::allocator {

// Service annotations the allocator reads, in both spellings MetalLB accepts. When both
// spellings are present the metallb.io one wins (as MetalLB's controller decides).
inline constexpr std::string_view kAddressPoolAnnotation = "metallb.io/address-pool";
inline constexpr std::string_view kLoadBalancerIpsAnnotation = "metallb.io/loadBalancerIPs";
inline constexpr std::string_view kAllowSharedIpAnnotation = "metallb.io/allow-shared-ip";
inline constexpr std::string_view kLegacyAddressPoolAnnotation = "metallb.universe.tf/address-pool";
inline constexpr std::string_view kLegacyLoadBalancerIpsAnnotation =
    "metallb.universe.tf/loadBalancerIPs";
inline constexpr std::string_view kLegacyAllowSharedIpAnnotation =
    "metallb.universe.tf/allow-shared-ip";
// Written by MetalLB's controller beside the status; the adapter may write Result::pool here.
inline constexpr std::string_view kAllocatedFromPoolAnnotation =
    "metallb.io/ip-allocated-from-pool";

enum class IpFamily { kIPv4, kIPv6 };
enum class IpFamilyPolicy { kSingleStack, kPreferDualStack, kRequireDualStack };
enum class TrafficPolicy { kCluster, kLocal };

// "IPv4"/"IPv6", "SingleStack"/..., "Cluster"/"Local" as the API spells them; nullopt otherwise.
std::optional<IpFamily> ParseIpFamily(std::string_view text);
std::optional<IpFamilyPolicy> ParseIpFamilyPolicy(std::string_view text);
std::optional<TrafficPolicy> ParseTrafficPolicy(std::string_view text);
std::string_view Name(IpFamily family);
std::string_view Name(IpFamilyPolicy policy);

// spec.ports[]: sharing an address needs distinct (protocol, port) pairs.
struct ServicePort {
  std::string protocol = "TCP";  // TCP, UDP, SCTP
  std::int64_t port = 0;
  bool operator==(const ServicePort&) const = default;
};

// A core/v1 Service as the allocator sees it.
struct Service {
  std::string namespace_name;
  std::string name;
  std::map<std::string, std::string> labels;
  // Labels of the Service's Namespace (IPAddressPool serviceAllocation.namespaceSelectors).
  std::map<std::string, std::string> namespace_labels;
  std::map<std::string, std::string> annotations;  // raw; the allocator parses them
  std::string type = "LoadBalancer";               // spec.type
  std::optional<std::string> load_balancer_class;  // spec.loadBalancerClass
  std::string load_balancer_ip;                    // spec.loadBalancerIP (deprecated), raw
  // spec.ipFamilies. Empty (a manifest the API server has not defaulted): the families of
  // the requested addresses if any, else IPv4, or IPv4 and IPv6 under RequireDualStack.
  std::vector<IpFamily> ip_families;
  std::optional<IpFamilyPolicy> ip_family_policy;  // nullopt: SingleStack
  std::vector<ServicePort> ports;
  TrafficPolicy external_traffic_policy = TrafficPolicy::kCluster;
  std::map<std::string, std::string> selector;  // spec.selector (sharing under Local)
  // status.loadBalancer.ingress[].ip as stored, raw (an unparsable entry is ignored).
  std::vector<std::string> held;

  // "namespace/name": the key every Allocator call uses.
  std::string Key() const { return namespace_name + "/" + name; }
  bool operator==(const Service&) const = default;
};

// Why a Service has the addresses it has, or none.
// kNotLoadBalancer and kNotOurs are not failures (no AllocationFailed Event): the Service
// is simply not one this allocator gives addresses to.
enum class Reason {
  kAllocated,           // addresses hold the Service's addresses (kept or new)
  kNotLoadBalancer,     // spec.type is not LoadBalancer: hold nothing
  kNotOurs,             // spec.loadBalancerClass is not the one this allocator serves
  kMalformedRequest,    // an annotation or spec.loadBalancerIP does not parse
  kConflictingRequest,  // the requests contradict each other or the Service's families
  kUnknownPool,         // metallb.io/address-pool names no IPAddressPool
  kPoolNotAllowed,      // the pool's serviceAllocation does not admit this Service
  kOutsidePools,        // a requested address is in no IPAddressPool
  kAddressInUse,        // a requested address is held by a Service that does not share
  kSharingRefused,      // same address, but sharing key, policy/selector or ports clash
  kNoEligiblePool,      // no pool may give this Service an address of its families
  kPoolExhausted,       // the pools that may serve it have no free address
};
std::string_view Name(Reason reason);  // "Allocated", "PoolExhausted", ...

// The decision for one Service.
struct Result {
  std::string key;                     // namespace/name
  std::vector<std::string> addresses;  // what status.loadBalancer.ingress should hold
  std::string pool;                    // the pool of `addresses`; empty when none
  Reason reason = Reason::kAllocated;
  // For a user: names the annotation or field and its value, the pools tried, the
  // Service holding a requested address. Empty when reason is kAllocated.
  std::string message;
  // Things worth an Info Event although the result is fine or kept, e.g. a held address
  // that left its pool and was replaced, or a PreferDualStack second family not found.
  std::vector<std::string> notes;

  // True when the Service holds what it asked for. `addresses` may be non-empty while
  // !ok(): a held address stays while a malformed annotation is reported (as MetalLB).
  bool ok() const { return reason == Reason::kAllocated; }
  // True when the Service is a LoadBalancer of ours that is denied something.
  bool failed() const {
    return reason != Reason::kAllocated && reason != Reason::kNotLoadBalancer &&
           reason != Reason::kNotOurs;
  }
  bool operator==(const Result&) const = default;
};

}  // namespace bgpcomm::allocator
