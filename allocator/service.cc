#include "allocator/service.h"

namespace bgpcomm::allocator {

std::optional<IpFamily> ParseIpFamily(std::string_view text) {
  if (text == "IPv4") return IpFamily::kIPv4;
  if (text == "IPv6") return IpFamily::kIPv6;
  return std::nullopt;
}

std::optional<IpFamilyPolicy> ParseIpFamilyPolicy(std::string_view text) {
  if (text == "SingleStack") return IpFamilyPolicy::kSingleStack;
  if (text == "PreferDualStack") return IpFamilyPolicy::kPreferDualStack;
  if (text == "RequireDualStack") return IpFamilyPolicy::kRequireDualStack;
  return std::nullopt;
}

std::optional<TrafficPolicy> ParseTrafficPolicy(std::string_view text) {
  // "" is what an unset field decodes to; the API server defaults it to Cluster.
  if (text == "Cluster" || text.empty()) return TrafficPolicy::kCluster;
  if (text == "Local") return TrafficPolicy::kLocal;
  return std::nullopt;
}

std::string_view Name(IpFamily family) { return family == IpFamily::kIPv4 ? "IPv4" : "IPv6"; }

std::string_view Name(IpFamilyPolicy policy) {
  switch (policy) {
    case IpFamilyPolicy::kSingleStack:
      return "SingleStack";
    case IpFamilyPolicy::kPreferDualStack:
      return "PreferDualStack";
    case IpFamilyPolicy::kRequireDualStack:
      return "RequireDualStack";
  }
  return "SingleStack";
}

std::string_view Name(Reason reason) {
  switch (reason) {
    case Reason::kAllocated:
      return "Allocated";
    case Reason::kNotLoadBalancer:
      return "NotLoadBalancer";
    case Reason::kNotOurs:
      return "NotOurs";
    case Reason::kMalformedRequest:
      return "MalformedRequest";
    case Reason::kConflictingRequest:
      return "ConflictingRequest";
    case Reason::kUnknownPool:
      return "UnknownPool";
    case Reason::kPoolNotAllowed:
      return "PoolNotAllowed";
    case Reason::kOutsidePools:
      return "OutsidePools";
    case Reason::kAddressInUse:
      return "AddressInUse";
    case Reason::kSharingRefused:
      return "SharingRefused";
    case Reason::kNoEligiblePool:
      return "NoEligiblePool";
    case Reason::kPoolExhausted:
      return "PoolExhausted";
  }
  return "Unknown";
}

}  // namespace bgpcomm::allocator
