#include "community/pool_release.h"

#include <algorithm>
#include <string>
#include <vector>

#include "community/ip_prefix.h"

namespace bgpcomm::community {
namespace {

std::vector<Prefix> PrefixesOf(const AddressPool& pool) {
  std::vector<Prefix> out;
  for (const std::string& entry : pool.addresses) {
    auto prefixes = ParsePoolEntry(entry);
    if (prefixes) out.insert(out.end(), prefixes->begin(), prefixes->end());
  }
  return out;
}

bool AnyContains(const std::vector<Prefix>& prefixes, const IpAddress& ip) {
  return std::ranges::any_of(prefixes, [&](const Prefix& p) { return Contains(p, ip); });
}

// MetalLB's avoidBuggyIPs: IPv4 addresses ending in .0 or .255.
bool IsBuggy(const IpAddress& ip) { return !ip.v6 && (ip.bytes[3] == 0 || ip.bytes[3] == 255); }

}  // namespace

Diagnostics WarnAddressesTaken(const AddressPool& old_pool, const AddressPool* new_pool,
                               std::span<const ServiceObject> services) {
  Diagnostics out;
  std::vector<Prefix> before = PrefixesOf(old_pool);
  std::vector<Prefix> after = new_pool != nullptr ? PrefixesOf(*new_pool) : std::vector<Prefix>{};
  bool avoid_buggy = new_pool != nullptr && new_pool->avoid_buggy_ips;
  std::vector<std::string> losing;  // "namespace/name (address, ...)"
  for (const ServiceObject& service : services) {
    if (service.type != "LoadBalancer") continue;
    std::vector<std::string> taken;
    for (const LoadBalancerIngress& ingress : service.status.load_balancer.ingress) {
      auto ip = ParseAddress(ingress.ip);
      if (!ip || !AnyContains(before, *ip)) continue;
      if (!AnyContains(after, *ip) || (avoid_buggy && IsBuggy(*ip))) taken.push_back(ingress.ip);
    }
    if (taken.empty()) continue;
    std::string entry = service.meta.namespace_name + "/" + service.meta.name + " (";
    for (std::size_t i = 0; i < taken.size(); ++i) entry += (i ? ", " : "") + taken[i];
    losing.push_back(entry + ")");
  }
  if (losing.empty()) return out;
  std::ranges::sort(losing);
  std::string names;
  for (std::size_t i = 0; i < losing.size() && i < 3; ++i) names += (i ? ", " : "") + losing[i];
  if (losing.size() > 3) names += " and " + std::to_string(losing.size() - 3) + " more";
  std::string count =
      std::to_string(losing.size()) + (losing.size() == 1 ? " Service holds" : " Services hold");
  if (new_pool == nullptr) {
    out.Warning("metadata.name", "deleting IPAddressPool \"" + old_pool.meta.name +
                                     "\" takes addresses away: " + count + " an address from it: " +
                                     names + "; they get new addresses and their routes move");
  } else {
    out.Warning("spec.addresses", "this change takes addresses away: " + count +
                                      " an address it removes from the pool: " + names +
                                      "; they get new addresses and their routes move");
  }
  return out;
}

}  // namespace bgpcomm::community
