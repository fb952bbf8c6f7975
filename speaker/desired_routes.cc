#include "speaker/desired_routes.h"

#include <algorithm>
#include <set>
#include <utility>

#include "community/annotation.h"
#include "community/ip_prefix.h"
#include "community/label_selector.h"
#include "speaker/prefix_conversion.h"

namespace bgpcomm::speaker {
namespace {

constexpr std::string_view kLocalPolicy = "Local";

// MetalLB: no selectors select every node; otherwise any one of them must match.
bool SelectsNode(const std::vector<community::LabelSelector>& selectors, const Node& node) {
  if (selectors.empty()) return true;
  return std::ranges::any_of(selectors, [&](const community::LabelSelector& s) {
    return community::Matches(s, node.labels);
  });
}

bool SelectsPool(const community::Advertisement& adv, const community::AddressPool& pool) {
  if (adv.meta.namespace_name != pool.meta.namespace_name) return false;
  if (adv.ip_address_pools.empty() && adv.ip_address_pool_selectors.empty()) return true;
  if (std::ranges::find(adv.ip_address_pools, pool.meta.name) != adv.ip_address_pools.end()) {
    return true;
  }
  return std::ranges::any_of(adv.ip_address_pool_selectors, [&](const community::LabelSelector& s) {
    return community::Matches(s, pool.meta.labels);
  });
}

bool PoolContains(const community::AddressPool& pool, const community::IpAddress& ip) {
  for (const std::string& entry : pool.addresses) {
    auto prefixes = community::ParsePoolEntry(entry);
    if (!prefixes) continue;
    for (const community::Prefix& p : *prefixes) {
      if (community::Contains(p, ip)) return true;
    }
  }
  return false;
}

bool HasReadyLocalEndpoint(const Service& service, const SpeakerObjects& objects) {
  for (const EndpointSlice& slice : objects.endpoint_slices) {
    if (slice.namespace_name != service.namespace_name || slice.service_name != service.name) {
      continue;
    }
    for (const Endpoint& e : slice.endpoints) {
      if (e.node_name == objects.node.name && e.ready.value_or(true) && !e.addresses.empty()) {
        return true;
      }
    }
  }
  return false;
}

struct Accepted {
  const community::Advertisement* advertisement;
  std::vector<StandardCommunity> communities;
  std::vector<LargeCommunity> large_communities;
  int length_v4;
  int length_v6;
};

template <typename T>
void MergeSorted(std::vector<T>& into, const std::vector<T>& more) {
  std::set<T> all(into.begin(), into.end());
  all.insert(more.begin(), more.end());
  into.assign(all.begin(), all.end());
}

}  // namespace

DesiredRoutes ComputeDesiredRoutes(const SpeakerObjects& objects) {
  DesiredRoutes out;
  std::vector<const community::Peer*> node_peers;
  for (const community::Peer& peer : objects.peers) {
    if (!SelectsNode(peer.node_selectors, objects.node)) continue;
    node_peers.push_back(&peer);
    out.by_peer[peer.meta.name];
  }

  std::vector<Accepted> accepted;
  for (const community::Advertisement& adv : objects.advertisements) {
    auto refuse = [&](std::string reason) {
      out.refused.push_back({adv.meta.namespace_name, adv.meta.name, std::move(reason)});
    };
    auto values = community::AnnouncedCommunities(adv);
    if (!values) {
      refuse(values.error());
      continue;
    }
    int v4 = static_cast<int>(adv.aggregation_length.value_or(32));
    int v6 = static_cast<int>(adv.aggregation_length_v6.value_or(128));
    if (adv.aggregation_length.value_or(32) < 0 || adv.aggregation_length.value_or(32) > 32) {
      refuse("spec.aggregationLength must be between 0 and 32");
      continue;
    }
    if (adv.aggregation_length_v6.value_or(128) < 0 ||
        adv.aggregation_length_v6.value_or(128) > 128) {
      refuse("spec.aggregationLengthV6 must be between 0 and 128");
      continue;
    }
    if (adv.local_pref && (*adv.local_pref < 0 || *adv.local_pref > 0xffffffffLL)) {
      refuse("spec.localPref must be between 0 and 4294967295");
      continue;
    }
    Accepted a{&adv, {}, {}, v4, v6};
    for (const community::CommunityValue& v : *values) {
      if (const auto* s = std::get_if<StandardCommunity>(&v)) {
        a.communities.push_back(*s);
      } else {
        a.large_communities.push_back(std::get<LargeCommunity>(v));
      }
    }
    if (SelectsNode(adv.node_selectors, objects.node)) accepted.push_back(std::move(a));
  }

  for (const Service& service : objects.services) {
    if (service.type != "LoadBalancer") continue;
    if (service.external_traffic_policy == kLocalPolicy &&
        !HasReadyLocalEndpoint(service, objects)) {
      continue;
    }
    for (const std::string& text : service.ingress_ips) {
      auto ip = community::ParseAddress(text);
      if (!ip) continue;
      auto pool = std::ranges::find_if(
          objects.pools, [&](const community::AddressPool& p) { return PoolContains(p, *ip); });
      if (pool == objects.pools.end()) continue;
      for (const Accepted& a : accepted) {
        if (!SelectsPool(*a.advertisement, *pool)) continue;
        auto prefix =
            FromCommunityPrefix(community::Truncate(*ip, ip->v6 ? a.length_v6 : a.length_v4));
        if (!prefix) continue;
        for (const community::Peer* peer : node_peers) {
          const std::vector<std::string>& named = a.advertisement->peers;
          if (peer->meta.namespace_name != a.advertisement->meta.namespace_name) continue;
          if (!named.empty() && std::ranges::find(named, peer->meta.name) == named.end()) {
            continue;
          }
          RouteAttributes& route = out.by_peer[peer->meta.name][*prefix];
          MergeSorted(route.communities, a.communities);
          MergeSorted(route.large_communities, a.large_communities);
          if (a.advertisement->local_pref) {
            auto lp = static_cast<std::uint32_t>(*a.advertisement->local_pref);
            route.local_pref = std::max(route.local_pref.value_or(0), lp);
          }
        }
      }
    }
  }
  return out;
}

}  // namespace bgpcomm::speaker
