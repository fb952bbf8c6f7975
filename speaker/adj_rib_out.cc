#include "speaker/adj_rib_out.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace bgpcomm::speaker {
namespace {

constexpr std::uint32_t kDefaultLocalPref = 100;

bool Carries(const OutboundSession& session, Afi afi) {
  AfiSafi family{afi, Safi::kUnicast};
  if (std::ranges::find(session.families, family) == session.families.end()) return false;
  return afi == Afi::kIpv4 ? session.next_hops.ipv4.has_value()
                           : session.next_hops.ipv6.has_value();
}

bool Append(RibOutput& out, std::expected<std::vector<Bytes>, EncodeError> packed) {
  if (!packed) {
    out.errors.push_back(packed.error().message);
    return false;
  }
  for (Bytes& m : *packed) out.messages.push_back(std::move(m));
  return true;
}

}  // namespace

std::uint32_t RouteSet::Builder::AddAttributes(RouteAttributes attributes) {
  table_.push_back(std::move(attributes));
  return static_cast<std::uint32_t>(table_.size() - 1);
}

void RouteSet::Builder::Append(const IpPrefix& prefix, std::uint32_t attributes) {
  std::vector<Route>& routes = routes_;
  if (routes.empty() || routes.back().prefix < prefix) {
    routes.push_back({prefix, attributes});
    return;
  }
  auto it = std::ranges::lower_bound(routes, prefix, {}, &Route::prefix);
  if (it->prefix == prefix) {
    it->attributes = attributes;
  } else {
    routes.insert(it, {prefix, attributes});
  }
}

RouteSet RouteSet::Builder::Build() && {
  RouteSet set;
  set.routes_ = std::move(routes_);
  set.table_ = std::move(table_);
  return set;
}

RouteSet::RouteSet(std::initializer_list<std::pair<IpPrefix, RouteAttributes>> routes) {
  for (const auto& [prefix, attributes] : routes) {
    if (!contains(prefix)) insert_or_assign(prefix, attributes);
  }
}

std::vector<RouteSet::Route>::const_iterator RouteSet::LowerBound(const IpPrefix& prefix) const {
  return std::ranges::lower_bound(routes_, prefix, {}, &Route::prefix);
}

RouteSet::const_iterator RouteSet::find(const IpPrefix& prefix) const {
  auto it = LowerBound(prefix);
  if (it == routes_.end() || it->prefix != prefix) return end();
  return {&*it, &table_};
}

const RouteAttributes& RouteSet::at(const IpPrefix& prefix) const {
  auto it = LowerBound(prefix);
  if (it == routes_.end() || it->prefix != prefix) throw std::out_of_range("RouteSet::at");
  return table_[it->attributes];
}

std::uint32_t RouteSet::Intern(const RouteAttributes& attributes) {
  auto it = std::ranges::find(table_, attributes);
  if (it != table_.end()) return static_cast<std::uint32_t>(it - table_.begin());
  table_.push_back(attributes);
  return static_cast<std::uint32_t>(table_.size() - 1);
}

void RouteSet::insert_or_assign(const IpPrefix& prefix, const RouteAttributes& attributes) {
  std::uint32_t id = Intern(attributes);
  auto it = routes_.begin() + (LowerBound(prefix) - routes_.cbegin());
  if (it != routes_.end() && it->prefix == prefix) {
    it->attributes = id;
  } else {
    routes_.insert(it, {prefix, id});
  }
}

RouteSet::size_type RouteSet::erase(const IpPrefix& prefix) {
  auto it = LowerBound(prefix);
  if (it == routes_.end() || it->prefix != prefix) return 0;
  routes_.erase(it);
  return 1;
}

void RouteSet::Apply(const std::vector<RouteChange>& changes) {
  // In place while the moves of the tail stay below one pass over the set.
  if (changes.size() * 16 <= routes_.size() || changes.size() <= 4) {
    for (const RouteChange& c : changes) {
      if (c.attributes) {
        insert_or_assign(c.prefix, *c.attributes);
      } else {
        erase(c.prefix);
      }
    }
    return;
  }
  std::vector<Route> merged;
  merged.reserve(routes_.size() + changes.size());
  auto old_route = routes_.begin();
  for (const RouteChange& c : changes) {
    for (; old_route != routes_.end() && old_route->prefix < c.prefix; ++old_route) {
      merged.push_back(*old_route);
    }
    if (old_route != routes_.end() && old_route->prefix == c.prefix) ++old_route;
    if (c.attributes) merged.push_back({c.prefix, Intern(*c.attributes)});
  }
  merged.insert(merged.end(), old_route, routes_.end());
  routes_ = std::move(merged);
}

void RouteSet::clear() {
  routes_.clear();
  table_.clear();
}

bool operator==(const RouteSet& a, const RouteSet& b) {
  return std::ranges::equal(
      a.routes_, b.routes_, [&](const RouteSet::Route& x, const RouteSet::Route& y) {
        return x.prefix == y.prefix && a.table_[x.attributes] == b.table_[y.attributes];
      });
}

PathAttributes AdjRibOut::ToPathAttributes(const OutboundSession& session,
                                           const RouteAttributes& route) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  // eBGP: our ASN (RFC 4271 §5.1.2); asPathPrepend adds it that many more times, on iBGP
  // sessions too (as FRR's "set as-path prepend" does).
  std::vector<Asn> path(route.as_path_prepend + (session.ibgp ? 0u : 1u), session.local_asn);
  a.as_path = path.empty() ? AsPath{} : AsPath{{AsPathSegment::Type::kSequence, std::move(path)}};
  if (session.ibgp) a.local_pref = route.local_pref.value_or(kDefaultLocalPref);
  a.communities = route.communities;
  a.large_communities = route.large_communities;
  return a;
}

RouteAttributes AdjRibOut::Effective(const RouteAttributes& desired) const {
  RouteAttributes r = desired;
  if (session_->ibgp) {
    r.local_pref = r.local_pref.value_or(kDefaultLocalPref);
  } else {
    r.local_pref.reset();
  }
  return r;
}

RibOutput AdjRibOut::Start(const OutboundSession& session, const RouteSet& desired) {
  session_ = session;
  sent_.clear();
  RibOutput out = Transition(desired);
  for (const AfiSafi& family : session.families) out.messages.push_back(EncodeEndOfRib(family));
  return out;
}

RibOutput AdjRibOut::Update(const RouteSet& desired) {
  if (!session_) return RibOutput{};
  return Transition(desired);
}

RibOutput AdjRibOut::Change(const std::vector<RouteChange>& changes) {
  RibOutput out;
  RibOutput::Membership& membership = out.membership.emplace();
  if (!session_) return out;
  std::vector<IpPrefix> withdrawn;
  std::map<RouteAttributes, std::vector<IpPrefix>> groups;
  for (const RouteChange& c : changes) {
    auto sent = sent_.find(c.prefix);
    if (!c.attributes || !Carries(*session_, c.prefix.afi())) {
      if (sent != sent_.end()) withdrawn.push_back(c.prefix);
      continue;
    }
    RouteAttributes effective = Effective(*c.attributes);
    if (sent != sent_.end() && (*sent).second == effective) continue;
    groups[std::move(effective)].push_back(c.prefix);
  }
  std::vector<RouteChange> sent_changes;  // what the peer now holds, for sent_
  if (!withdrawn.empty() && Append(out, PackWithdrawals(withdrawn, session_->codec))) {
    out.withdrawn = withdrawn.size();
    for (const IpPrefix& p : withdrawn) sent_changes.push_back({p, std::nullopt});
  }
  for (auto& [attributes, prefixes] : groups) {
    auto packed = PackAnnouncements(ToPathAttributes(*session_, attributes), session_->next_hops,
                                    prefixes, session_->codec);
    if (Append(out, std::move(packed))) {
      out.announced += prefixes.size();
      for (const IpPrefix& p : prefixes) sent_changes.push_back({p, attributes});
      continue;
    }
    // Not sent: if an older version was announced it must not stay at the peer.
    std::vector<IpPrefix> stale;
    for (const IpPrefix& p : prefixes) {
      if (sent_.contains(p)) stale.push_back(p);
    }
    if (!stale.empty() && Append(out, PackWithdrawals(stale, session_->codec))) {
      out.withdrawn += stale.size();
      for (const IpPrefix& p : stale) sent_changes.push_back({p, std::nullopt});
    }
  }
  std::ranges::sort(sent_changes, {}, &RouteChange::prefix);
  for (const RouteChange& c : sent_changes) {
    bool was = sent_.contains(c.prefix);
    if (c.attributes && !was) membership.added.push_back(c.prefix);
    if (!c.attributes && was) membership.removed.push_back(c.prefix);
  }
  sent_.Apply(sent_changes);
  return out;
}

void AdjRibOut::Stop() {
  session_.reset();
  sent_.clear();
}

RibOutput AdjRibOut::Transition(const RouteSet& desired) {
  constexpr std::uint32_t kNone = RouteSet::Builder::kNone;
  // Routes with identical (effective) attributes share UPDATEs; groups in attribute order.
  // A group is one attribute set as the session carries it; several attribute sets of
  // `desired` may fall into one (LOCAL_PREF cleared on eBGP). The group ids are also the
  // attribute table of the new sent_.
  std::map<RouteAttributes, std::uint32_t> group_ids;
  RouteSet::Builder next;
  std::vector<std::uint32_t> group_of_desired;  // desired's table index -> group
  for (const RouteAttributes& attributes : desired.attribute_table()) {
    RouteAttributes effective = Effective(attributes);
    auto [it, added] = group_ids.try_emplace(effective, kNone);
    if (added) it->second = next.AddAttributes(std::move(effective));
    group_of_desired.push_back(it->second);
  }
  std::vector<std::uint32_t> group_of_sent;  // sent_'s table index -> group, or kNone
  for (const RouteAttributes& attributes : sent_.attribute_table()) {
    auto it = group_ids.find(attributes);
    group_of_sent.push_back(it == group_ids.end() ? kNone : it->second);
  }

  // One walk over both sets, in prefix order.
  RibOutput out;
  std::vector<IpPrefix> withdrawn;
  std::vector<std::vector<IpPrefix>> groups(group_ids.size());
  next.Reserve(desired.size());
  const std::vector<RouteSet::Route>& old_routes = sent_.routes();
  auto old_route = old_routes.begin();
  for (const RouteSet::Route& route : desired.routes()) {
    if (!Carries(*session_, route.prefix.afi())) continue;
    for (; old_route != old_routes.end() && old_route->prefix < route.prefix; ++old_route) {
      withdrawn.push_back(old_route->prefix);
    }
    std::uint32_t group = group_of_desired[route.attributes];
    bool unchanged = old_route != old_routes.end() && old_route->prefix == route.prefix &&
                     group_of_sent[old_route->attributes] == group;
    if (old_route != old_routes.end() && old_route->prefix == route.prefix) ++old_route;
    if (!unchanged) groups[group].push_back(route.prefix);
    next.Append(route.prefix, group);
  }
  for (; old_route != old_routes.end(); ++old_route) withdrawn.push_back(old_route->prefix);

  if (!withdrawn.empty() && Append(out, PackWithdrawals(withdrawn, session_->codec))) {
    out.withdrawn = withdrawn.size();
  }
  RouteSet target = std::move(next).Build();
  std::vector<IpPrefix> not_sent;
  for (const auto& [attributes, group] : group_ids) {
    const std::vector<IpPrefix>& prefixes = groups[group];
    if (prefixes.empty()) continue;
    auto packed = PackAnnouncements(ToPathAttributes(*session_, attributes), session_->next_hops,
                                    prefixes, session_->codec);
    if (Append(out, std::move(packed))) {
      out.announced += prefixes.size();
      continue;
    }
    // Not sent: if an older version was announced it must not stay at the peer.
    std::vector<IpPrefix> stale;
    for (const IpPrefix& p : prefixes) {
      if (sent_.contains(p)) stale.push_back(p);
      not_sent.push_back(p);
    }
    if (!stale.empty() && Append(out, PackWithdrawals(stale, session_->codec))) {
      out.withdrawn += stale.size();
    }
  }
  if (!not_sent.empty()) {
    std::ranges::sort(not_sent);
    erase_if(target, [&](const RouteSet::value_type& route) {
      return std::ranges::binary_search(not_sent, route.first);
    });
  }
  sent_ = std::move(target);
  return out;
}

}  // namespace bgpcomm::speaker
