#include "speaker/desired_routes.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "community/annotation.h"
#include "community/ip_prefix.h"
#include "community/label_selector.h"
#include "speaker/prefix_conversion.h"

namespace bgpcomm::speaker {

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

bool SelectsService(const community::Advertisement& adv, const Service& service) {
  return adv.service_selectors.empty() ||
         std::ranges::any_of(adv.service_selectors, [&](const community::LabelSelector& s) {
           return community::Matches(s, service.labels);
         });
}

std::expected<AdvertisedAttributes, RefusedAdvertisement> AcceptAdvertisement(
    const community::Advertisement& adv) {
  auto refuse = [&](std::string reason,
                    community::RefusalKind kind = community::RefusalKind::kInvalid) {
    return std::unexpected(
        RefusedAdvertisement{adv.meta.namespace_name, adv.meta.name, std::move(reason), kind});
  };
  auto values = community::AnnouncedCommunities(adv);
  if (!values) return refuse(values.error().message, values.error().kind);
  if (adv.aggregation_length.value_or(32) < 0 || adv.aggregation_length.value_or(32) > 32) {
    return refuse("spec.aggregationLength must be between 0 and 32");
  }
  if (adv.aggregation_length_v6.value_or(128) < 0 ||
      adv.aggregation_length_v6.value_or(128) > 128) {
    return refuse("spec.aggregationLengthV6 must be between 0 and 128");
  }
  if (adv.local_pref && (*adv.local_pref < 0 || *adv.local_pref > 0xffffffffLL)) {
    return refuse("spec.localPref must be between 0 and 4294967295");
  }
  if (adv.as_path_prepend && (*adv.as_path_prepend < 0 || *adv.as_path_prepend > 10)) {
    return refuse("spec.asPathPrepend must be between 1 and 10");
  }
  AdvertisedAttributes a;
  a.length_v4 = static_cast<int>(adv.aggregation_length.value_or(32));
  a.length_v6 = static_cast<int>(adv.aggregation_length_v6.value_or(128));
  for (const community::CommunityValue& v : *values) {
    if (const auto* s = std::get_if<StandardCommunity>(&v)) {
      a.communities.push_back(*s);
    } else {
      a.large_communities.push_back(std::get<LargeCommunity>(v));
    }
  }
  std::ranges::sort(a.communities);
  a.communities.erase(std::unique(a.communities.begin(), a.communities.end()), a.communities.end());
  std::ranges::sort(a.large_communities);
  a.large_communities.erase(std::unique(a.large_communities.begin(), a.large_communities.end()),
                            a.large_communities.end());
  if (adv.local_pref) a.local_pref = static_cast<std::uint32_t>(*adv.local_pref);
  if (adv.as_path_prepend) a.as_path_prepend = static_cast<std::uint8_t>(*adv.as_path_prepend);
  return a;
}

bool ServiceReadyOn(const EndpointSlice& slice, const Node& node) {
  return std::ranges::any_of(slice.endpoints, [&](const Endpoint& e) {
    return e.node_name == node.name && e.ready.value_or(true) && !e.addresses.empty();
  });
}

namespace {

constexpr std::string_view kLocalPolicy = "Local";

// An address pool with its entries parsed (entries that do not parse contain nothing).
struct ParsedPool {
  const community::AddressPool* pool;
  std::vector<community::Prefix> prefixes;
};

std::vector<ParsedPool> ParsePools(const std::vector<community::AddressPool>& pools) {
  std::vector<ParsedPool> out;
  out.reserve(pools.size());
  for (const community::AddressPool& pool : pools) {
    ParsedPool& parsed = out.emplace_back(ParsedPool{&pool, {}});
    for (const std::string& entry : pool.addresses) {
      auto prefixes = community::ParsePoolEntry(entry);
      if (!prefixes) continue;
      parsed.prefixes.insert(parsed.prefixes.end(), prefixes->begin(), prefixes->end());
    }
  }
  return out;
}

bool PoolContains(const ParsedPool& pool, const community::IpAddress& ip) {
  return std::ranges::any_of(
      pool.prefixes, [&](const community::Prefix& p) { return community::Contains(p, ip); });
}

// (namespace, service name) of every EndpointSlice that has a ready endpoint on `node`.
std::set<std::pair<std::string_view, std::string_view>> ServicesWithReadyLocalEndpoint(
    const std::vector<EndpointSlice>& slices, const Node& node) {
  std::set<std::pair<std::string_view, std::string_view>> out;
  for (const EndpointSlice& slice : slices) {
    if (ServiceReadyOn(slice, node)) out.emplace(slice.namespace_name, slice.service_name);
  }
  return out;
}

struct Accepted {
  const community::Advertisement* advertisement;
  std::vector<StandardCommunity> communities;     // sorted, no duplicates
  std::vector<LargeCommunity> large_communities;  // sorted, no duplicates
  int length_v4;
  int length_v6;
  std::vector<std::size_t> peers;  // the route sets (peer names) it announces to
};

// `into` with `more` merged in (both sorted, no duplicates): their union, in order.
template <typename T>
std::vector<T> Union(const std::vector<T>& into, const std::vector<T>& more) {
  std::vector<T> out;
  out.reserve(into.size() + more.size());
  std::ranges::set_union(into, more, std::back_inserter(out));
  return out;
}

// The attributes of a route are those of the advertisements announcing it merged
// (communities: union; LOCAL_PREF: the highest set). Merging is commutative and
// idempotent, so the attributes depend only on the set of advertisements. Routes are few
// attribute sets over many prefixes: each distinct set is built once, as a state id, and a
// merge step (state, advertisement) -> state is computed once.
class AttributeMerger {
 public:
  static constexpr std::uint32_t kEmpty = 0;

  explicit AttributeMerger(const std::vector<Accepted>& accepted) : accepted_(accepted) {
    Intern(RouteAttributes{});
  }

  std::uint32_t Merge(std::uint32_t state, std::uint32_t accepted) {
    auto [it, added] = steps_.try_emplace({state, accepted}, 0);
    if (!added) return it->second;
    const Accepted& a = accepted_[accepted];
    const RouteAttributes& from = states_[state];
    RouteAttributes merged{Union(from.communities, a.communities),
                           Union(from.large_communities, a.large_communities), from.local_pref,
                           from.as_path_prepend};
    if (a.advertisement->local_pref) {
      auto lp = static_cast<std::uint32_t>(*a.advertisement->local_pref);
      merged.local_pref = std::max(merged.local_pref.value_or(0), lp);
    }
    if (a.advertisement->as_path_prepend) {
      auto prepend = static_cast<std::uint8_t>(*a.advertisement->as_path_prepend);
      merged.as_path_prepend = std::max(merged.as_path_prepend, prepend);
    }
    it->second = Intern(std::move(merged));
    return it->second;
  }

  const RouteAttributes& Attributes(std::uint32_t state) const { return states_[state]; }
  std::size_t size() const { return states_.size(); }

 private:
  std::uint32_t Intern(RouteAttributes attributes) {
    auto [it, added] = ids_.try_emplace(attributes, static_cast<std::uint32_t>(states_.size()));
    if (added) states_.push_back(std::move(attributes));
    return it->second;
  }

  const std::vector<Accepted>& accepted_;
  std::vector<RouteAttributes> states_;
  std::map<RouteAttributes, std::uint32_t> ids_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> steps_;
};

// One advertisement announcing a prefix to a peer.
struct Contribution {
  IpPrefix prefix;
  std::uint32_t accepted;
  auto operator<=>(const Contribution&) const = default;
};

// The route set of one peer from what was announced to it: each prefix with the merged
// attributes of the advertisements announcing it. Sorts `contributions`.
RouteSet BuildRouteSet(std::vector<Contribution>& contributions, AttributeMerger& merger) {
  if (!std::ranges::is_sorted(contributions)) std::ranges::sort(contributions);
  RouteSet::Builder builder;
  std::size_t prefixes = 0;
  for (std::size_t i = 0; i < contributions.size(); ++i) {
    if (i == 0 || contributions[i].prefix != contributions[i - 1].prefix) ++prefixes;
  }
  builder.Reserve(prefixes);
  // Only the states this peer uses go into its set's attribute table.
  std::vector<std::uint32_t> table_id(merger.size(), RouteSet::Builder::kNone);
  for (std::size_t i = 0; i < contributions.size();) {
    const IpPrefix prefix = contributions[i].prefix;
    std::uint32_t state = AttributeMerger::kEmpty;
    for (; i < contributions.size() && contributions[i].prefix == prefix; ++i) {
      state = merger.Merge(state, contributions[i].accepted);
    }
    if (state >= table_id.size()) table_id.resize(merger.size(), RouteSet::Builder::kNone);
    std::uint32_t& id = table_id[state];
    if (id == RouteSet::Builder::kNone) id = builder.AddAttributes(merger.Attributes(state));
    builder.Append(prefix, id);
  }
  return std::move(builder).Build();
}

}  // namespace

DesiredRoutes ComputeDesiredRoutes(const SpeakerObjects& objects) {
  DesiredRoutes out;
  std::vector<const community::Peer*> node_peers;
  // Peers of the same name (in different namespaces) share one route set, as in by_peer.
  std::vector<std::string_view> slot_names;
  std::vector<std::size_t> slot_of_peer;
  for (const community::Peer& peer : objects.peers) {
    if (!SelectsNode(peer.node_selectors, objects.node)) continue;
    node_peers.push_back(&peer);
    if (out.by_peer.try_emplace(peer.meta.name).second) slot_names.push_back(peer.meta.name);
    slot_of_peer.push_back(static_cast<std::size_t>(
        std::ranges::find(slot_names, std::string_view(peer.meta.name)) - slot_names.begin()));
  }

  std::vector<Accepted> accepted;
  for (const community::Advertisement& adv : objects.advertisements) {
    auto attributes = AcceptAdvertisement(adv);
    if (!attributes) {
      out.refused.push_back(std::move(attributes.error()));
      continue;
    }
    Accepted a{&adv,
               std::move(attributes->communities),
               std::move(attributes->large_communities),
               attributes->length_v4,
               attributes->length_v6,
               {}};
    for (std::size_t i = 0; i < node_peers.size(); ++i) {
      const community::Peer* peer = node_peers[i];
      if (peer->meta.namespace_name != adv.meta.namespace_name) continue;
      if (!adv.peers.empty() && std::ranges::find(adv.peers, peer->meta.name) == adv.peers.end()) {
        continue;
      }
      a.peers.push_back(slot_of_peer[i]);
    }
    if (SelectsNode(adv.node_selectors, objects.node)) accepted.push_back(std::move(a));
  }

  std::vector<ParsedPool> pools = ParsePools(objects.pools);
  // selects[pool][accepted]
  std::vector<std::vector<char>> selects(pools.size(), std::vector<char>(accepted.size()));
  for (std::size_t p = 0; p < pools.size(); ++p) {
    for (std::size_t a = 0; a < accepted.size(); ++a) {
      selects[p][a] = SelectsPool(*accepted[a].advertisement, *pools[p].pool);
    }
  }
  auto ready_local = ServicesWithReadyLocalEndpoint(objects.endpoint_slices, objects.node);
  std::vector<std::vector<Contribution>> contributions(slot_names.size());

  for (const Service& service : objects.services) {
    if (service.type != "LoadBalancer") continue;
    if (service.external_traffic_policy == kLocalPolicy &&
        !ready_local.contains({service.namespace_name, service.name})) {
      continue;
    }
    for (const std::string& text : service.ingress_ips) {
      auto ip = community::ParseAddress(text);
      if (!ip) continue;
      auto pool =
          std::ranges::find_if(pools, [&](const ParsedPool& p) { return PoolContains(p, *ip); });
      if (pool == pools.end()) continue;
      const std::vector<char>& selected = selects[static_cast<std::size_t>(pool - pools.begin())];
      for (std::size_t i = 0; i < accepted.size(); ++i) {
        if (!selected[i]) continue;
        const Accepted& a = accepted[i];
        const auto& service_selectors = a.advertisement->service_selectors;
        if (!service_selectors.empty() &&
            std::ranges::none_of(service_selectors, [&](const community::LabelSelector& s) {
              return community::Matches(s, service.labels);
            })) {
          continue;
        }
        auto prefix =
            FromCommunityPrefix(community::Truncate(*ip, ip->v6 ? a.length_v6 : a.length_v4));
        if (!prefix) continue;
        for (std::size_t peer : a.peers) {
          contributions[peer].push_back({*prefix, static_cast<std::uint32_t>(i)});
        }
      }
    }
  }

  AttributeMerger merger(accepted);
  for (std::size_t i = 0; i < slot_names.size(); ++i) {
    out.by_peer.find(std::string(slot_names[i]))->second = BuildRouteSet(contributions[i], merger);
    contributions[i] = {};
  }
  return out;
}

std::vector<ServiceAnnouncement> AnnouncedServices(const SpeakerObjects& objects,
                                                   const DesiredRoutes& desired) {
  // Per peer, the prefix lengths its routes use: an address is covered when its
  // truncation to one of them is a route.
  std::map<std::string, std::set<int>> lengths;
  for (const auto& [peer, routes] : desired.by_peer) {
    for (const auto& [prefix, attributes] : routes) lengths[peer].insert(prefix.length);
  }
  std::vector<ServiceAnnouncement> out;
  for (const Service& service : objects.services) {
    if (service.type != "LoadBalancer") continue;
    ServiceAnnouncement a{service.namespace_name, service.name, {}};
    for (const auto& [peer, routes] : desired.by_peer) {
      bool covered = false;
      for (const std::string& ip : service.ingress_ips) {
        auto address = community::ParseAddress(ip);
        if (!address) continue;
        for (int length : lengths[peer]) {
          if (length > address->Bits()) continue;
          auto prefix = FromCommunityPrefix(community::Truncate(*address, length));
          if (prefix && routes.contains(*prefix)) covered = true;
        }
      }
      if (covered) a.peers.push_back(peer);
    }
    if (!a.peers.empty()) out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return std::tie(x.namespace_name, x.name) < std::tie(y.namespace_name, y.name);
  });
  return out;
}

}  // namespace bgpcomm::speaker
