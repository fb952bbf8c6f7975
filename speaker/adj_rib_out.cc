#include "speaker/adj_rib_out.h"

#include <algorithm>
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

PathAttributes AdjRibOut::ToPathAttributes(const OutboundSession& session,
                                           const RouteAttributes& route) {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path =
      session.ibgp ? AsPath{} : AsPath{{AsPathSegment::Type::kSequence, {session.local_asn}}};
  if (session.ibgp) a.local_pref = route.local_pref.value_or(kDefaultLocalPref);
  a.communities = route.communities;
  a.large_communities = route.large_communities;
  return a;
}

RouteSet AdjRibOut::Effective(const RouteSet& desired) const {
  RouteSet out;
  for (const auto& [prefix, route] : desired) {
    if (!Carries(*session_, prefix.afi())) continue;
    RouteAttributes r = route;
    if (session_->ibgp) {
      r.local_pref = r.local_pref.value_or(kDefaultLocalPref);
    } else {
      r.local_pref.reset();
    }
    out.emplace(prefix, std::move(r));
  }
  return out;
}

RibOutput AdjRibOut::Start(const OutboundSession& session, const RouteSet& desired) {
  session_ = session;
  sent_.clear();
  RibOutput out = Transition(Effective(desired));
  for (const AfiSafi& family : session.families) out.messages.push_back(EncodeEndOfRib(family));
  return out;
}

RibOutput AdjRibOut::Update(const RouteSet& desired) {
  if (!session_) return RibOutput{};
  return Transition(Effective(desired));
}

void AdjRibOut::Stop() {
  session_.reset();
  sent_.clear();
}

RibOutput AdjRibOut::Transition(RouteSet target) {
  RibOutput out;
  std::vector<IpPrefix> withdrawn;
  for (const auto& [prefix, route] : sent_) {
    if (!target.contains(prefix)) withdrawn.push_back(prefix);
  }
  // Routes with identical attributes share UPDATEs; groups in attribute order.
  std::map<RouteAttributes, std::vector<IpPrefix>> groups;
  for (const auto& [prefix, route] : target) {
    auto it = sent_.find(prefix);
    if (it == sent_.end() || it->second != route) groups[route].push_back(prefix);
  }
  if (!withdrawn.empty() && Append(out, PackWithdrawals(withdrawn, session_->codec))) {
    out.withdrawn = withdrawn.size();
  }
  for (const auto& [route, prefixes] : groups) {
    auto packed = PackAnnouncements(ToPathAttributes(*session_, route), session_->next_hops,
                                    prefixes, session_->codec);
    if (Append(out, std::move(packed))) {
      out.announced += prefixes.size();
      continue;
    }
    // Not sent: if an older version was announced it must not stay at the peer.
    std::vector<IpPrefix> stale;
    for (const IpPrefix& p : prefixes) {
      if (sent_.contains(p)) stale.push_back(p);
      target.erase(p);
    }
    if (!stale.empty() && Append(out, PackWithdrawals(stale, session_->codec))) {
      out.withdrawn += stale.size();
    }
  }
  sent_ = std::move(target);
  return out;
}

}  // namespace bgpcomm::speaker
