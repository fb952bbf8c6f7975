#include "speaker/incremental_routes.h"

#include <algorithm>
#include <expected>
#include <iterator>
#include <optional>
#include <set>
#include <utility>

#include "community/ip_prefix.h"
#include "speaker/prefix_conversion.h"

namespace bgpcomm::speaker {
namespace {

constexpr std::uint32_t kNone = 0xffffffff;

// (namespace, name)
using Key = std::pair<std::string, std::string>;

Key MakeKey(std::string_view ns, std::string_view name) {
  return {std::string(ns), std::string(name)};
}

struct AdvertisementState {
  std::uint32_t id = 0;
  std::shared_ptr<const community::Advertisement> object;
  std::expected<AdvertisedAttributes, RefusedAdvertisement> accepted;
};

struct PoolState {
  std::shared_ptr<const community::AddressPool> object;
  std::vector<community::Prefix> prefixes;  // its entries parsed (unparsable: nothing)
};

// What the configuration (peers, Node, pools, advertisements) makes of one advertisement.
struct AdvertisementRoute {
  bool contributes = false;          // accepted and selecting this node
  std::vector<std::uint32_t> slots;  // the peers (by name) it announces to
  std::vector<std::size_t> pools;    // indexes into Derived::pools of the pools it selects
  bool operator==(const AdvertisementRoute& other) const {
    return contributes == other.contributes && slots == other.slots;
  }
};

struct PoolRoute {
  Key key;
  std::vector<community::Prefix> prefixes;
  std::vector<std::uint32_t> advertisements;  // contributing advertisements selecting it
};

// The configuration's part of the routes, rebuilt when the configuration changes (it is
// small next to the Services).
struct Derived {
  std::vector<PoolRoute> pools;                    // in (namespace, name) order
  std::vector<AdvertisementRoute> advertisements;  // by advertisement id
  std::set<std::uint32_t> selected;                // slots of peers selected for the node
};

struct Contribution {
  std::uint32_t slot;
  IpPrefix prefix;
  std::uint32_t advertisement;
};

struct ServiceState {
  std::shared_ptr<const Service> object;  // null: removed, dropped at the next Commit()
  std::vector<Contribution> contributions;
  std::vector<community::IpAddress> indexed;  // its addresses in by_address (sorted)
  bool reindex = true;                        // the object changed since `indexed` was read from it
};
using ServiceMap = std::map<Key, ServiceState>;

// One prefix of one peer: the advertisements announcing it (with how many Service
// addresses make each do so) and the attributes last published.
struct Entry {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> contributors;
  std::uint32_t published = kNone;
};

template <typename T>
std::vector<T> Union(const std::vector<T>& a, const std::vector<T>& b) {
  std::vector<T> out;
  out.reserve(a.size() + b.size());
  std::ranges::set_union(a, b, std::back_inserter(out));
  return out;
}

}  // namespace

struct IncrementalRoutes::State {
  // Inputs.
  ServiceMap services;
  std::multimap<community::IpAddress, ServiceMap::iterator> by_address;  // Services' addresses
  std::map<Key, std::shared_ptr<const EndpointSlice>> slices;
  std::map<Key, int> ready_slices;  // (namespace, Service) -> slices ready on this node
  std::map<Key, PoolState> pools;
  std::map<Key, AdvertisementState> advertisements;
  std::map<Key, std::uint32_t> advertisement_ids;              // never reused for another key
  std::vector<const AdvertisementState*> advertisement_by_id;  // null: removed
  std::vector<community::Peer> peers;
  Node node;

  // Pending since the last Commit().
  std::vector<ServiceMap::iterator> dirty_services;  // may repeat
  std::set<Key> touched_pools;
  std::set<std::uint32_t> touched_advertisements;
  bool config_dirty = false;
  bool recount = false;

  // Derived.
  Derived derived;
  std::map<std::string, std::uint32_t, std::less<>> slot_ids;
  std::vector<std::string> slot_names;
  std::vector<std::map<IpPrefix, Entry>> routes;  // by slot
  std::vector<std::pair<std::uint32_t, IpPrefix>> touched_entries;
  std::map<RouteAttributes, std::uint32_t> attribute_ids;
  std::vector<RouteAttributes> attributes;
  std::map<std::uint32_t, std::vector<IpPrefix>> changed;  // by slot, for TakeChanges()
  // The published attributes of a route one advertisement alone announces, by
  // advertisement id (kNone: not computed); cleared when the configuration changes.
  std::vector<std::uint32_t> single;
  std::size_t last_recomputed = 0;
  // Announcements(): noted once asked for, the Services whose announcement may change.
  bool track_announcements = false;
  std::set<Key> announcement_dirty;

  std::uint32_t Slot(const std::string& name) {
    auto [it, added] = slot_ids.try_emplace(name, static_cast<std::uint32_t>(slot_names.size()));
    if (added) {
      slot_names.push_back(name);
      routes.emplace_back();
    }
    return it->second;
  }

  std::uint32_t InternAttributes(RouteAttributes a) {
    auto [it, added] =
        attribute_ids.try_emplace(std::move(a), static_cast<std::uint32_t>(attributes.size()));
    if (added) attributes.push_back(it->first);
    return it->second;
  }

  bool Ready(const Key& service) const { return ready_slices.contains(service); }

  // Counts `slice` in (or out of, `delta` -1) its Service's ready slices; a Service whose
  // readiness flips is recomputed.
  void CountSlice(const EndpointSlice& slice, int delta) {
    if (!ServiceReadyOn(slice, node)) return;
    Key service = MakeKey(slice.namespace_name, slice.service_name);
    int& n = ready_slices[service];
    bool before = n > 0;
    n += delta;
    if ((n > 0) != before) {
      if (auto it = services.find(service); it != services.end()) dirty_services.push_back(it);
    }
    if (n <= 0) ready_slices.erase(service);
  }

  Derived Derive() {
    Derived d;
    for (const auto& [key, pool] : pools) d.pools.push_back({key, pool.prefixes, {}});
    std::vector<std::pair<const community::Peer*, std::uint32_t>> node_peers;
    for (const community::Peer& peer : peers) {
      if (!SelectsNode(peer.node_selectors, node)) continue;
      std::uint32_t slot = Slot(peer.meta.name);
      d.selected.insert(slot);
      node_peers.emplace_back(&peer, slot);
    }
    d.advertisements.resize(advertisement_by_id.size());
    for (const auto& [key, state] : advertisements) {
      const community::Advertisement& adv = *state.object;
      if (!state.accepted || !SelectsNode(adv.node_selectors, node)) continue;
      AdvertisementRoute& r = d.advertisements[state.id];
      r.contributes = true;
      for (const auto& [peer, slot] : node_peers) {
        if (peer->meta.namespace_name != adv.meta.namespace_name) continue;
        if (!adv.peers.empty() &&
            std::ranges::find(adv.peers, peer->meta.name) == adv.peers.end()) {
          continue;
        }
        r.slots.push_back(slot);
      }
      for (std::size_t p = 0; p < d.pools.size(); ++p) {
        if (!SelectsPool(adv, *pools.at(d.pools[p].key).object)) continue;
        r.pools.push_back(p);
        d.pools[p].advertisements.push_back(state.id);
      }
    }
    return d;
  }

  // The Services with an address in one of `ranges`.
  void MarkServicesIn(std::vector<community::Prefix>& ranges) {
    std::ranges::sort(ranges);
    ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
    for (const community::Prefix& range : ranges) {
      for (auto it = by_address.lower_bound(range.address);
           it != by_address.end() && community::Contains(range, it->first); ++it) {
        dirty_services.push_back(it->second);
      }
    }
  }

  void Reconfigure() {
    Derived next = Derive();
    std::vector<community::Prefix> ranges;
    auto add_pool = [&](const Derived& d, std::size_t p) {
      ranges.insert(ranges.end(), d.pools[p].prefixes.begin(), d.pools[p].prefixes.end());
    };
    for (const Derived* d : {&derived, &next}) {
      for (std::size_t p = 0; p < d->pools.size(); ++p) {
        if (touched_pools.contains(d->pools[p].key)) add_pool(*d, p);
      }
    }
    std::size_t ids = std::max(derived.advertisements.size(), next.advertisements.size());
    static const AdvertisementRoute kNoRoute;
    for (std::size_t id = 0; id < ids; ++id) {
      const AdvertisementRoute& before =
          id < derived.advertisements.size() ? derived.advertisements[id] : kNoRoute;
      const AdvertisementRoute& after =
          id < next.advertisements.size() ? next.advertisements[id] : kNoRoute;
      if (before == after && !touched_advertisements.contains(static_cast<std::uint32_t>(id))) {
        continue;
      }
      for (std::size_t p : before.pools) add_pool(derived, p);
      for (std::size_t p : after.pools) add_pool(next, p);
    }
    derived = std::move(next);
    single.clear();
    MarkServicesIn(ranges);
    touched_pools.clear();
    touched_advertisements.clear();
    config_dirty = false;
  }

  void Contribute(const Contribution& c, bool add) {
    touched_entries.emplace_back(c.slot, c.prefix);
    Entry& entry = routes[c.slot][c.prefix];
    auto it = std::ranges::find(entry.contributors, c.advertisement,
                                &std::pair<std::uint32_t, std::uint32_t>::first);
    if (add) {
      if (it == entry.contributors.end()) {
        entry.contributors.emplace_back(c.advertisement, 1);
      } else {
        ++it->second;
      }
    } else if (it != entry.contributors.end() && --it->second == 0) {
      entry.contributors.erase(it);
    }
  }

  void Recompute(ServiceMap::iterator it) {
    ++last_recomputed;
    if (track_announcements) announcement_dirty.insert(it->first);
    ServiceState& state = it->second;
    for (const Contribution& c : state.contributions) Contribute(c, false);
    state.contributions.clear();
    // The address index changes only with the object (a configuration change recomputes
    // the same object).
    if (state.reindex || !state.object) {
      for (const community::IpAddress& address : state.indexed) {
        auto [first, last] = by_address.equal_range(address);
        for (auto i = first; i != last;) i = i->second == it ? by_address.erase(i) : std::next(i);
      }
      state.indexed.clear();
      if (!state.object) {
        services.erase(it);
        return;
      }
      if (state.object->type == "LoadBalancer") {
        for (const std::string& text : state.object->ingress_ips) {
          if (auto ip = community::ParseAddress(text)) state.indexed.push_back(*ip);
        }
        std::ranges::sort(state.indexed);
        state.indexed.erase(std::unique(state.indexed.begin(), state.indexed.end()),
                            state.indexed.end());
        for (const community::IpAddress& address : state.indexed) {
          by_address.emplace(address, it);
        }
      }
      state.reindex = false;
    }
    const Service& service = *state.object;
    if (service.type != "LoadBalancer") return;
    if (service.external_traffic_policy == "Local" && !Ready(it->first)) return;
    // Each distinct address once: announcing is idempotent.
    for (const community::IpAddress& ip : state.indexed) {
      auto pool = std::ranges::find_if(derived.pools, [&](const PoolRoute& p) {
        return std::ranges::any_of(p.prefixes, [&](const community::Prefix& prefix) {
          return community::Contains(prefix, ip);
        });
      });
      if (pool == derived.pools.end()) continue;
      for (std::uint32_t id : pool->advertisements) {
        const AdvertisementState& adv = *advertisement_by_id[id];
        if (!SelectsService(*adv.object, service)) continue;
        const AdvertisedAttributes& a = *adv.accepted;
        auto prefix =
            FromCommunityPrefix(community::Truncate(ip, ip.v6 ? a.length_v6 : a.length_v4));
        if (!prefix) continue;
        for (std::uint32_t slot : derived.advertisements[id].slots) {
          state.contributions.push_back({slot, *prefix, id});
          Contribute(state.contributions.back(), true);
        }
      }
    }
  }

  RouteAttributes Merge(const Entry& entry) const {
    RouteAttributes merged;
    for (const auto& [id, count] : entry.contributors) {
      const AdvertisedAttributes& a = *advertisement_by_id[id]->accepted;
      merged.communities = Union(merged.communities, a.communities);
      merged.large_communities = Union(merged.large_communities, a.large_communities);
      if (a.local_pref) merged.local_pref = std::max(merged.local_pref.value_or(0), *a.local_pref);
      merged.as_path_prepend = std::max(merged.as_path_prepend, a.as_path_prepend);
    }
    return merged;
  }

  void NoteAddressesIn(const community::Prefix& range) {
    for (auto it = by_address.lower_bound(range.address);
         it != by_address.end() && community::Contains(range, it->first); ++it) {
      announcement_dirty.insert(it->second->first);
    }
  }

  // The prefix lengths any accepted advertisement gives its routes: every route has one.
  std::set<int> RouteLengths() const {
    std::set<int> lengths;
    for (const auto& [key, state] : advertisements) {
      if (!state.accepted) continue;
      lengths.insert(state.accepted->length_v4);
      lengths.insert(state.accepted->length_v6);
    }
    return lengths;
  }

  // The selected peers' (name, slot), in name order.
  std::vector<std::pair<std::string_view, std::uint32_t>> SelectedByName() const {
    std::vector<std::pair<std::string_view, std::uint32_t>> out;
    for (std::uint32_t slot : derived.selected) out.emplace_back(slot_names[slot], slot);
    std::ranges::sort(out);
    return out;
  }

  // AnnouncedServices' rule for one Service: the peers with a route that covers one of
  // its addresses (the address truncated to one of `lengths` is a route of the peer).
  ServiceAnnouncement Announcement(
      const Key& key, const std::set<int>& lengths,
      const std::vector<std::pair<std::string_view, std::uint32_t>>& peers) const {
    ServiceAnnouncement a{key.first, key.second, {}};
    auto it = services.find(key);
    if (it == services.end() || !it->second.object || it->second.object->type != "LoadBalancer") {
      return a;
    }
    for (const auto& [name, slot] : peers) {
      const auto& table = routes[slot];
      bool covered = false;
      for (const community::IpAddress& ip : it->second.indexed) {
        for (int length : lengths) {
          if (covered || length > ip.Bits()) continue;
          auto prefix = FromCommunityPrefix(community::Truncate(ip, length));
          covered = prefix && table.contains(*prefix);
        }
      }
      if (covered) a.peers.emplace_back(name);
    }
    return a;
  }

  // Publishes the attributes of every entry touched, recording those that changed.
  void Publish() {
    std::ranges::sort(touched_entries);
    touched_entries.erase(std::unique(touched_entries.begin(), touched_entries.end()),
                          touched_entries.end());
    for (const auto& [slot, prefix] : touched_entries) {
      auto it = routes[slot].find(prefix);
      if (it == routes[slot].end()) continue;
      Entry& entry = it->second;
      std::uint32_t now = kNone;
      if (entry.contributors.size() == 1) {
        std::uint32_t id = entry.contributors.front().first;
        if (id >= single.size()) single.resize(id + 1, kNone);
        if (single[id] == kNone) single[id] = InternAttributes(Merge(entry));
        now = single[id];
      } else if (!entry.contributors.empty()) {
        now = InternAttributes(Merge(entry));
      }
      if (now != entry.published) {
        changed[slot].push_back(prefix);
        // A route covers the addresses inside it, whichever Service contributes it.
        if (track_announcements) NoteAddressesIn(ToCommunityPrefix(prefix));
      }
      if (now == kNone) {
        routes[slot].erase(it);
      } else {
        entry.published = now;
      }
    }
    touched_entries.clear();
  }
};

IncrementalRoutes::IncrementalRoutes() : state_(std::make_unique<State>()) {}
IncrementalRoutes::~IncrementalRoutes() = default;

void IncrementalRoutes::SetService(std::shared_ptr<const Service> service) {
  auto [it, added] = state_->services.try_emplace(MakeKey(service->namespace_name, service->name));
  it->second.object = std::move(service);
  it->second.reindex = true;
  state_->dirty_services.push_back(it);
}

void IncrementalRoutes::RemoveService(std::string_view ns, std::string_view name) {
  auto it = state_->services.find(MakeKey(ns, name));
  if (it == state_->services.end()) return;
  it->second.object = nullptr;
  state_->dirty_services.push_back(it);
}

void IncrementalRoutes::SetEndpointSlice(std::shared_ptr<const EndpointSlice> slice) {
  auto& stored = state_->slices[MakeKey(slice->namespace_name, slice->name)];
  if (stored) state_->CountSlice(*stored, -1);
  state_->CountSlice(*slice, +1);
  stored = std::move(slice);
}

void IncrementalRoutes::RemoveEndpointSlice(std::string_view ns, std::string_view name) {
  auto it = state_->slices.find(MakeKey(ns, name));
  if (it == state_->slices.end()) return;
  state_->CountSlice(*it->second, -1);
  state_->slices.erase(it);
}

void IncrementalRoutes::SetPool(std::shared_ptr<const community::AddressPool> pool) {
  Key key = MakeKey(pool->meta.namespace_name, pool->meta.name);
  PoolState& state = state_->pools[key];
  state.prefixes.clear();
  for (const std::string& entry : pool->addresses) {
    auto prefixes = community::ParsePoolEntry(entry);
    if (prefixes) state.prefixes.insert(state.prefixes.end(), prefixes->begin(), prefixes->end());
  }
  state.object = std::move(pool);
  state_->touched_pools.insert(std::move(key));
  state_->config_dirty = true;
}

void IncrementalRoutes::RemovePool(std::string_view ns, std::string_view name) {
  Key key = MakeKey(ns, name);
  if (state_->pools.erase(key) == 0) return;
  state_->touched_pools.insert(std::move(key));
  state_->config_dirty = true;
}

void IncrementalRoutes::SetAdvertisement(
    std::shared_ptr<const community::Advertisement> advertisement, std::string decode_error) {
  State& s = *state_;
  Key key = MakeKey(advertisement->meta.namespace_name, advertisement->meta.name);
  auto [id_it, added] = s.advertisement_ids.try_emplace(
      key, static_cast<std::uint32_t>(s.advertisement_by_id.size()));
  if (added) s.advertisement_by_id.push_back(nullptr);
  std::uint32_t id = id_it->second;
  auto [it, inserted] = s.advertisements.try_emplace(
      std::move(key), AdvertisementState{id, nullptr, std::unexpected(RefusedAdvertisement{})});
  AdvertisementState& state = it->second;
  if (decode_error.empty()) {
    state.accepted = AcceptAdvertisement(*advertisement);
  } else {
    state.accepted = std::unexpected(
        RefusedAdvertisement{advertisement->meta.namespace_name, advertisement->meta.name,
                             std::move(decode_error), community::RefusalKind::kInvalid});
  }
  state.object = std::move(advertisement);
  s.advertisement_by_id[id] = &state;
  s.touched_advertisements.insert(id);
  s.config_dirty = true;
}

void IncrementalRoutes::RemoveAdvertisement(std::string_view ns, std::string_view name) {
  State& s = *state_;
  auto it = s.advertisements.find(MakeKey(ns, name));
  if (it == s.advertisements.end()) return;
  // Routes still count it until Commit() recomputes them; only its id is used until then.
  s.advertisement_by_id[it->second.id] = nullptr;
  s.touched_advertisements.insert(it->second.id);
  s.advertisements.erase(it);
  s.config_dirty = true;
}

void IncrementalRoutes::SetPeers(std::vector<community::Peer> peers) {
  std::ranges::sort(peers, {}, [](const community::Peer& p) {
    return std::pair<const std::string&, const std::string&>(p.meta.namespace_name, p.meta.name);
  });
  if (peers == state_->peers) return;
  state_->peers = std::move(peers);
  state_->config_dirty = true;
}

void IncrementalRoutes::SetNode(Node node) {
  if (node == state_->node) return;
  if (node.name != state_->node.name) state_->recount = true;
  state_->node = std::move(node);
  state_->config_dirty = true;
}

void IncrementalRoutes::Commit() {
  State& s = *state_;
  s.last_recomputed = 0;
  if (s.recount) {
    s.ready_slices.clear();
    for (const auto& [key, slice] : s.slices) s.CountSlice(*slice, +1);
    for (auto it = s.services.begin(); it != s.services.end(); ++it) s.dirty_services.push_back(it);
    s.recount = false;
  }
  if (s.config_dirty) s.Reconfigure();
  auto address = [](ServiceMap::iterator it) { return &*it; };
  std::ranges::sort(s.dirty_services, {}, address);
  auto [first, last] = std::ranges::unique(s.dirty_services, {}, address);
  s.dirty_services.erase(first, last);
  for (ServiceMap::iterator it : s.dirty_services) s.Recompute(it);
  s.dirty_services.clear();
  s.Publish();
}

const std::vector<community::Peer>& IncrementalRoutes::peers() const { return state_->peers; }

bool IncrementalRoutes::Selected(std::string_view peer) const {
  auto it = state_->slot_ids.find(peer);
  return it != state_->slot_ids.end() && state_->derived.selected.contains(it->second);
}

RouteSet IncrementalRoutes::RoutesOf(std::string_view peer) const {
  if (!Selected(peer)) return {};
  const State& s = *state_;
  const auto& entries = s.routes[s.slot_ids.find(peer)->second];
  RouteSet::Builder builder;
  builder.Reserve(entries.size());
  std::vector<std::uint32_t> table_id(s.attributes.size(), RouteSet::Builder::kNone);
  for (const auto& [prefix, entry] : entries) {
    std::uint32_t& id = table_id[entry.published];
    if (id == RouteSet::Builder::kNone) id = builder.AddAttributes(s.attributes[entry.published]);
    builder.Append(prefix, id);
  }
  return std::move(builder).Build();
}

DesiredRoutes IncrementalRoutes::Desired() const {
  DesiredRoutes out;
  for (std::uint32_t slot : state_->derived.selected) {
    const std::string& name = state_->slot_names[slot];
    out.by_peer.emplace(name, RoutesOf(name));
  }
  out.refused = Refused();
  return out;
}

std::vector<RefusedAdvertisement> IncrementalRoutes::Refused() const {
  std::vector<RefusedAdvertisement> out;
  for (const auto& [key, state] : state_->advertisements) {
    if (!state.accepted) out.push_back(state.accepted.error());
  }
  return out;
}

std::map<std::string, std::vector<RouteChange>> IncrementalRoutes::TakeChanges() {
  State& s = *state_;
  std::map<std::string, std::vector<RouteChange>> out;
  for (auto& [slot, prefixes] : s.changed) {
    std::ranges::sort(prefixes);
    prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
    std::vector<RouteChange>& changes = out[s.slot_names[slot]];
    changes.reserve(prefixes.size());
    for (const IpPrefix& prefix : prefixes) {
      auto it = s.routes[slot].find(prefix);
      if (it == s.routes[slot].end()) {
        changes.push_back({prefix, std::nullopt});
      } else {
        changes.push_back({prefix, s.attributes[it->second.published]});
      }
    }
  }
  s.changed.clear();
  return out;
}

std::vector<ServiceAnnouncement> IncrementalRoutes::Announcements() {
  State& s = *state_;
  s.track_announcements = true;
  s.announcement_dirty.clear();
  std::set<int> lengths = s.RouteLengths();
  auto peers = s.SelectedByName();
  std::vector<ServiceAnnouncement> out;
  for (const auto& [key, service] : s.services) {
    ServiceAnnouncement a = s.Announcement(key, lengths, peers);
    if (!a.peers.empty()) out.push_back(std::move(a));
  }
  return out;
}

std::vector<ServiceAnnouncement> IncrementalRoutes::TakeAnnouncementChanges() {
  State& s = *state_;
  std::vector<ServiceAnnouncement> out;
  if (s.announcement_dirty.empty()) return out;
  std::set<int> lengths = s.RouteLengths();
  auto peers = s.SelectedByName();
  out.reserve(s.announcement_dirty.size());
  for (const Key& key : s.announcement_dirty) out.push_back(s.Announcement(key, lengths, peers));
  s.announcement_dirty.clear();
  return out;
}

std::size_t IncrementalRoutes::last_recomputed() const { return state_->last_recomputed; }

}  // namespace bgpcomm::speaker
