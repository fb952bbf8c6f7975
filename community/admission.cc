#include "community/admission.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "community/duration.h"
#include "community/ip_prefix.h"
#include "community/label_selector.h"
#include "community/well_known.h"

namespace bgpcomm::community {
namespace {

constexpr std::int64_t kMaxUint32 = 4294967295;
constexpr std::int64_t kSecond = 1'000'000'000;

std::string Join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string Index(std::string_view field, std::size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

bool Contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// "BGPAdvertisement a" or "BGPAdvertisements a, b".
std::string KindAndNames(std::string_view kind, const std::vector<std::string>& names) {
  return std::string(kind) + (names.size() == 1 ? " " : "s ") + Join(names);
}

// ---- Community ----------------------------------------------------------------------

// What `name` resolves to in a namespace whose aliases are `table`.
std::optional<CommunityValue> NameValue(const AliasTable& table, std::string_view name) {
  if (const AliasEntry* entry = table.Find(name)) return entry->value;
  if (auto known = LookupWellKnown(name)) return CommunityValue{*known};
  return std::nullopt;
}

// Every advertisement's name and referenced entries, read once per decision.
using References = std::vector<std::pair<std::string, std::vector<std::string>>>;

References AllReferences(const NamespaceObjects& objects) {
  References references;
  for (const auto& advertisement : objects.advertisements) {
    references.emplace_back(advertisement.meta.name, ReferencedEntries(advertisement));
  }
  return references;
}

// Sorted names of the advertisements that reference `name`.
std::vector<std::string> Referencing(const References& references, std::string_view name) {
  std::vector<std::string> names;
  for (const auto& [advertisement, entries] : references) {
    if (Contains(entries, name)) names.push_back(advertisement);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// Judges what replacing the stored version of Community `object_name` by `updated` (or
// deleting it, when null) does to the advertisements that reference its aliases.
void CheckReferences(std::string_view object_name, const CommunityObject* previous,
                     const CommunityObject* updated, const NamespaceContext& context,
                     Diagnostics& out) {
  std::vector<CommunityObject> after_objects;
  for (const auto& community : context.objects.communities) {
    if (community.meta.name != object_name) after_objects.push_back(community);
  }
  if (updated != nullptr) after_objects.push_back(*updated);
  const AliasTable after = AliasTable::Build(after_objects);

  std::vector<std::string> names;
  for (const CommunityObject* version : {previous, updated}) {
    if (version == nullptr) continue;
    for (const auto& alias : version->aliases) {
      if (alias.name.empty() || LooksLikeLiteral(alias.name) || Contains(names, alias.name)) {
        continue;
      }
      names.push_back(alias.name);
    }
  }
  const References references = AllReferences(context.objects);
  for (const auto& name : names) {
    std::optional<std::size_t> new_index;
    if (updated != nullptr) {
      for (std::size_t i = 0; i < updated->aliases.size(); ++i) {
        if (updated->aliases[i].name == name) {
          new_index = i;
          break;
        }
      }
      // An invalid new value is reported by the value rule already.
      if (new_index && !ParseValue(updated->aliases[*new_index].value)) continue;
    }
    std::vector<std::string> advertisements = Referencing(references, name);
    if (advertisements.empty()) continue;
    auto before_value = NameValue(context.aliases, name);
    auto after_value = NameValue(after, name);
    if (before_value && !after_value) {
      out.Error("spec.communities",
                "alias " + Quote(name) + " is still referenced by " +
                    KindAndNames("BGPAdvertisement", advertisements) + "; " +
                    (updated == nullptr ? "deleting this Community" : "removing or renaming it") +
                    " would leave " + (advertisements.size() == 1 ? "it" : "them") +
                    " unresolved; change the advertisements first");
    } else if (before_value && after_value && *before_value != *after_value) {
      std::string to = Format(*after_value);
      if (!after.Find(name)) to += " (the well-known " + name + ")";
      out.Warning(new_index ? Index("spec.communities", *new_index) + ".value"
                            : std::string("spec.communities"),
                  "alias " + Quote(name) + " changes from " + Format(*before_value) + " to " + to +
                      "; the resolver will re-resolve " + std::to_string(advertisements.size()) +
                      " advertisement(s): " + Join(advertisements));
    }
  }
}

// ---- BGPAdvertisement ---------------------------------------------------------------

std::vector<const AddressPool*> SelectedPools(const Advertisement& advertisement,
                                              const NamespaceObjects& objects) {
  std::vector<const AddressPool*> pools;
  const bool all =
      advertisement.ip_address_pools.empty() && advertisement.ip_address_pool_selectors.empty();
  for (const auto& pool : objects.pools) {
    bool selected = all || Contains(advertisement.ip_address_pools, pool.meta.name) ||
                    std::any_of(advertisement.ip_address_pool_selectors.begin(),
                                advertisement.ip_address_pool_selectors.end(),
                                [&](const auto& s) { return Matches(s, pool.meta.labels); });
    if (selected) pools.push_back(&pool);
  }
  return pools;
}

std::vector<const Peer*> SelectedPeers(const Advertisement& advertisement,
                                       const NamespaceObjects& objects) {
  std::vector<const Peer*> peers;
  for (const auto& peer : objects.peers) {
    if (advertisement.peers.empty() || Contains(advertisement.peers, peer.meta.name)) {
      peers.push_back(&peer);
    }
  }
  return peers;
}

bool IsInternal(const Peer& peer) {
  if (peer.dynamic_asn == "internal") return true;
  return peer.dynamic_asn.empty() && peer.my_asn && peer.peer_asn && *peer.my_asn == *peer.peer_asn;
}

bool IsExternal(const Peer& peer) {
  if (peer.dynamic_asn == "external") return true;
  return peer.dynamic_asn.empty() && peer.my_asn && peer.peer_asn && *peer.my_asn != *peer.peer_asn;
}

// The advertisement's communities as the current aliases resolve them, sorted.
std::vector<std::string> CurrentCommunities(const Advertisement& advertisement,
                                            const AliasTable& aliases) {
  std::vector<std::string> out;
  for (const auto& entry : ReferencedEntries(advertisement)) {
    if (auto value = ResolveEntry(entry, aliases)) {
      std::string text = Format(*value);
      if (!Contains(out, text)) out.push_back(std::move(text));
    }
  }
  return out;
}

void CheckAggregation(const Advertisement& object, const std::vector<const AddressPool*>& pools,
                      Diagnostics& out) {
  struct Family {
    const char* field;
    const char* name;
    std::optional<std::int64_t> value;
    int bits;
    const char* default_route;
    bool v6;
  };
  const Family families[] = {
      {"spec.aggregationLength", "aggregationLength", object.aggregation_length, 32, "0.0.0.0/0",
       false},
      {"spec.aggregationLengthV6", "aggregationLengthV6", object.aggregation_length_v6, 128, "::/0",
       true},
  };
  for (const auto& family : families) {
    const std::string range = "1.." + std::to_string(family.bits);
    if (family.value && *family.value == 0) {
      out.Error(family.field, std::string(family.name) + " 0 would announce a default route (" +
                                  family.default_route + "); it must be " + range);
      continue;
    }
    if (family.value && (*family.value < 1 || *family.value > family.bits)) {
      out.Error(family.field, std::string(family.name) + " " + std::to_string(*family.value) +
                                  " is out of range " + range);
      continue;
    }
    const std::int64_t length = family.value.value_or(family.bits);
    for (const AddressPool* pool : pools) {
      // The longest prefix of the pool in this family decides; one error per pool.
      std::optional<Prefix> longest;
      std::string longest_entry;
      for (const auto& entry : pool->addresses) {
        auto prefixes = ParsePoolEntry(entry);
        if (!prefixes) continue;
        for (const auto& prefix : *prefixes) {
          if (prefix.address.v6 != family.v6) continue;
          if (!longest || prefix.length > longest->length) {
            longest = prefix;
            longest_entry = entry;
          }
        }
      }
      if (!longest || length >= longest->length) continue;
      std::string where = Format(*longest);
      if (longest_entry.find('-') != std::string::npos) where += " (of " + longest_entry + ")";
      out.Error(family.field, std::string(family.name) + " " + std::to_string(length) +
                                  " is shorter than the prefix length " +
                                  std::to_string(longest->length) + " of " + where +
                                  " in IPAddressPool " + pool->meta.name +
                                  "; the aggregate would cover addresses outside the pool");
    }
  }
}

void CheckLocalPref(const Advertisement& object, const NamespaceObjects& objects,
                    Diagnostics& out) {
  if (!object.local_pref) return;
  if (*object.local_pref < 0 || *object.local_pref > kMaxUint32) {
    out.Error("spec.localPref",
              "localPref " + std::to_string(*object.local_pref) + " is out of range 0..4294967295");
    return;
  }
  std::vector<const Peer*> peers = SelectedPeers(object, objects);
  if (peers.empty()) return;
  std::vector<std::string> described;
  for (const Peer* peer : peers) {
    if (!IsExternal(*peer)) return;
    if (peer->dynamic_asn == "external") {
      described.push_back(peer->meta.name + " (dynamicASN external)");
    } else {
      described.push_back(peer->meta.name + " (myASN " + std::to_string(*peer->my_asn) +
                          ", peerASN " + std::to_string(*peer->peer_asn) + ")");
    }
  }
  out.Warning("spec.localPref",
              "localPref is sent only on iBGP sessions, and every selected BGPPeer is eBGP: " +
                  Join(described) + "; no peer receives it");
}

// One warning however many advertisements overlap: with 1,000 advertisements on one pool,
// a warning per pair would bury everything else.
void CheckOverlaps(const Advertisement& object, const std::vector<const AddressPool*>& pools,
                   const std::vector<std::string>& communities, const NamespaceContext& context,
                   Diagnostics& out) {
  constexpr std::size_t kListed = 3;
  std::vector<std::string> own = communities;
  std::sort(own.begin(), own.end());
  struct Overlap {
    std::string name;
    std::vector<std::string> pools;
    std::vector<std::string> communities;
  };
  std::vector<Overlap> overlaps;
  for (const auto& other : context.objects.advertisements) {
    if (other.meta.name == object.meta.name) continue;
    if (other.node_selectors != object.node_selectors) continue;
    bool peers_overlap = other.peers.empty() || object.peers.empty() ||
                         std::any_of(other.peers.begin(), other.peers.end(),
                                     [&](const auto& p) { return Contains(object.peers, p); });
    if (!peers_overlap) continue;
    std::vector<std::string> shared;
    for (const AddressPool* pool : SelectedPools(other, context.objects)) {
      if (std::find(pools.begin(), pools.end(), pool) != pools.end()) {
        shared.push_back(pool->meta.name);
      }
    }
    if (shared.empty()) continue;
    std::vector<std::string> theirs = CurrentCommunities(other, context.aliases);
    std::vector<std::string> sorted = theirs;
    std::sort(sorted.begin(), sorted.end());
    if (sorted == own) continue;
    overlaps.push_back({other.meta.name, std::move(shared), std::move(theirs)});
  }
  if (overlaps.empty()) return;
  if (overlaps.size() == 1) {
    const Overlap& only = overlaps.front();
    out.Warning("spec.communities",
                "BGPAdvertisement " + only.name + " selects the same " +
                    (only.pools.size() == 1 ? "pool " : "pools ") + Join(only.pools) +
                    ", nodes and peers with different communities [" + Join(only.communities) +
                    "]; their communities are merged on every route");
    return;
  }
  std::vector<std::string> listed;
  for (std::size_t i = 0; i < overlaps.size() && i < kListed; ++i) {
    listed.push_back(overlaps[i].name + " [" + Join(overlaps[i].communities) + "]");
  }
  std::string message = std::to_string(overlaps.size()) +
                        " BGPAdvertisements select the same pools, nodes and peers with "
                        "different communities: " +
                        Join(listed, "; ");
  if (overlaps.size() > kListed) {
    message += "; and " + std::to_string(overlaps.size() - kListed) + " more";
  }
  out.Warning("spec.communities", message + "; their communities are merged on every route");
}

// ---- BGPPeer ------------------------------------------------------------------------

void CheckAsn(std::string_view field, std::string_view name, std::optional<std::int64_t> asn,
              Diagnostics& out) {
  if (asn && (*asn < 1 || *asn > kMaxUint32)) {
    out.Error(std::string(field),
              std::string(name) + " " + std::to_string(*asn) + " is out of range 1..4294967295");
  }
}

}  // namespace

void CheckNamespace(std::string_view namespace_name, const AdmissionOptions& options,
                    Diagnostics& out) {
  if (namespace_name.empty() || namespace_name == options.configured_namespace) return;
  out.Warning("metadata.namespace",
              "namespace " + std::string(namespace_name) + " is outside the configured namespace " +
                  options.configured_namespace + "; the speaker ignores this object");
}

Diagnostics ValidateCommunity(const CommunityObject& object, const CommunityObject* old_object,
                              const NamespaceContext& context, const AdmissionOptions& options) {
  Diagnostics out;
  CheckNamespace(object.meta.namespace_name, options, out);
  const std::string& namespace_name = object.meta.namespace_name.empty()
                                          ? context.objects.namespace_name
                                          : object.meta.namespace_name;
  for (std::size_t i = 0; i < object.aliases.size(); ++i) {
    const CommunityAlias& alias = object.aliases[i];
    const std::string base = Index("spec.communities", i);
    const std::string name_path = base + ".name";
    const std::string value_path = base + ".value";
    if (alias.name.empty()) {
      out.Error(name_path, "name is empty");
    } else if (LooksLikeLiteral(alias.name)) {
      out.Error(name_path, Quote(alias.name) +
                               " contains ':'; an entry with ':' is read as a community value, "
                               "never as an alias");
    } else {
      std::optional<std::size_t> earlier;
      for (std::size_t j = 0; j < i && !earlier; ++j) {
        if (object.aliases[j].name == alias.name) earlier = j;
      }
      if (earlier) {
        out.Error(name_path, Quote(alias.name) + " is already defined by " +
                                 Index("spec.communities", *earlier));
      } else {
        std::vector<std::string> owners;
        for (const auto& other : context.objects.communities) {
          if (other.meta.name == object.meta.name) continue;
          if (std::any_of(other.aliases.begin(), other.aliases.end(),
                          [&](const auto& a) { return a.name == alias.name; })) {
            owners.push_back(other.meta.name);
          }
        }
        std::sort(owners.begin(), owners.end());
        if (!owners.empty()) {
          out.Error(name_path, Quote(alias.name) + " is already defined by " +
                                   KindAndNames("Community", owners) + " in namespace " +
                                   namespace_name + "; alias names are unique per namespace");
        }
      }
    }
    auto parsed = ParseValue(alias.value);
    if (!parsed) {
      out.Error(value_path, parsed.error());
      continue;
    }
    if (!parsed->canonical) {
      out.Warning(value_path, Quote(alias.value) + " is read as " + Format(parsed->value));
    }
    if (const auto* standard = std::get_if<StandardCommunity>(&parsed->value)) {
      if (auto warning = RangeWarning(*standard)) out.Warning(value_path, *warning);
    }
    if (auto known = LookupWellKnown(alias.name);
        known && CommunityValue{*known} != parsed->value) {
      out.Warning(name_path, "alias " + Quote(alias.name) + " (" + Format(parsed->value) +
                                 ") shadows the well-known community " + alias.name + " (" +
                                 Format(*known) + ") in namespace " + namespace_name);
    }
  }

  const CommunityObject* previous = old_object;
  if (previous == nullptr) {
    for (const auto& community : context.objects.communities) {
      if (community.meta.name == object.meta.name) previous = &community;
    }
  }
  CheckReferences(object.meta.name, previous, &object, context, out);
  return out;
}

Diagnostics ValidateCommunityDelete(const CommunityObject& old_object,
                                    const NamespaceContext& context,
                                    const AdmissionOptions& /*options*/) {
  Diagnostics out;
  CheckReferences(old_object.meta.name, &old_object, nullptr, context, out);
  return out;
}

AdvertisementDecision ValidateAdvertisement(const Advertisement& object,
                                            const Advertisement* old_object,
                                            const NamespaceContext& context,
                                            const AdmissionOptions& options) {
  AdvertisementDecision decision;
  Diagnostics& out = decision.diagnostics;
  CheckNamespace(object.meta.namespace_name, options, out);
  Advertisement named = object;
  if (named.meta.namespace_name.empty()) named.meta.namespace_name = context.objects.namespace_name;
  decision.stored =
      ComputeStored(named, old_object, context.aliases, options.unresolved, options.expand, out);

  const std::string& namespace_name = named.meta.namespace_name;
  std::vector<const AddressPool*> pools = SelectedPools(object, context.objects);
  CheckAggregation(object, pools, out);
  CheckLocalPref(object, context.objects, out);

  for (std::size_t i = 0; i < object.ip_address_pools.size(); ++i) {
    const std::string& name = object.ip_address_pools[i];
    if (std::none_of(context.objects.pools.begin(), context.objects.pools.end(),
                     [&](const auto& pool) { return pool.meta.name == name; })) {
      out.Warning(Index("spec.ipAddressPools", i),
                  "IPAddressPool " + Quote(name) + " does not exist in namespace " +
                      namespace_name + "; nothing is announced from it until it is created");
    }
  }
  for (std::size_t i = 0; i < object.ip_address_pool_selectors.size(); ++i) {
    ValidateSelector(object.ip_address_pool_selectors[i], Index("spec.ipAddressPoolSelectors", i),
                     out);
  }
  for (std::size_t i = 0; i < object.node_selectors.size(); ++i) {
    ValidateSelector(object.node_selectors[i], Index("spec.nodeSelectors", i), out);
  }
  for (std::size_t i = 0; i < object.peers.size(); ++i) {
    const std::string& name = object.peers[i];
    if (std::none_of(context.objects.peers.begin(), context.objects.peers.end(),
                     [&](const auto& peer) { return peer.meta.name == name; })) {
      out.Warning(Index("spec.peers", i), "BGPPeer " + Quote(name) +
                                              " does not exist in namespace " + namespace_name +
                                              "; nothing is announced to it until it is created");
    }
  }
  CheckOverlaps(object, pools, decision.stored.resolution.communities, context, out);
  return decision;
}

Diagnostics ValidatePool(const AddressPool& object, const AdmissionOptions& options) {
  Diagnostics out;
  CheckNamespace(object.meta.namespace_name, options, out);
  std::vector<std::pair<std::size_t, Prefix>> seen;
  for (std::size_t i = 0; i < object.addresses.size(); ++i) {
    const std::string path = Index("spec.addresses", i);
    auto prefixes = ParsePoolEntry(object.addresses[i]);
    if (!prefixes) {
      out.Error(path, prefixes.error());
      continue;
    }
    bool reported = false;
    for (const auto& prefix : *prefixes) {
      for (const auto& [j, other] : seen) {
        if (reported || j == i) continue;
        if (Contains(prefix, other.address) || Contains(other, prefix.address)) {
          out.Error(path, Quote(object.addresses[i]) + " overlaps " + Index("spec.addresses", j) +
                              " (" + Quote(object.addresses[j]) + ")");
          reported = true;
        }
      }
    }
    for (const auto& prefix : *prefixes) seen.emplace_back(i, prefix);
  }
  return out;
}

Diagnostics ValidatePeer(const Peer& object, const AdmissionOptions& options) {
  Diagnostics out;
  CheckNamespace(object.meta.namespace_name, options, out);

  if (!object.my_asn) {
    out.Error("spec.myASN", "myASN is required");
  } else {
    CheckAsn("spec.myASN", "myASN", object.my_asn, out);
  }
  if (!object.dynamic_asn.empty() && object.dynamic_asn != "internal" &&
      object.dynamic_asn != "external") {
    out.Error("spec.dynamicASN",
              "dynamicASN " + Quote(object.dynamic_asn) + " is not one of internal, external");
  }
  if (object.peer_asn && !object.dynamic_asn.empty()) {
    out.Error("spec.peerASN", "peerASN and dynamicASN are mutually exclusive; set one of them");
  } else if (!object.peer_asn && object.dynamic_asn.empty()) {
    out.Error("spec.peerASN", "peerASN is required unless dynamicASN is set");
  }
  CheckAsn("spec.peerASN", "peerASN", object.peer_asn, out);

  std::optional<IpAddress> peer_address;
  if (object.peer_address.empty()) {
    out.Error("spec.peerAddress", "peerAddress is required");
  } else if (auto address = ParseAddress(object.peer_address)) {
    peer_address = *address;
  } else {
    out.Error("spec.peerAddress", address.error());
  }
  if (!object.source_address.empty()) {
    auto source = ParseAddress(object.source_address);
    if (!source) {
      out.Error("spec.sourceAddress", source.error());
    } else if (peer_address && source->v6 != peer_address->v6) {
      out.Error("spec.sourceAddress", "sourceAddress " + object.source_address + " is IPv" +
                                          (source->v6 ? "6" : "4") + " but peerAddress " +
                                          object.peer_address + " is IPv" +
                                          (peer_address->v6 ? "6" : "4"));
    }
  }
  if (object.peer_port && (*object.peer_port < 1 || *object.peer_port > 65535)) {
    out.Error("spec.peerPort",
              "peerPort " + std::to_string(*object.peer_port) + " is out of range 1..65535");
  }

  auto duration = [&](std::string_view field, std::string_view name,
                      const std::optional<std::string>& text) -> std::optional<std::int64_t> {
    if (!text) return std::nullopt;
    auto parsed = ParseGoDuration(*text);
    if (!parsed) {
      out.Error(std::string(field), std::string(name) + " " + Quote(*text) +
                                        " is not a duration (for example \"90s\" or \"1m30s\")");
      return std::nullopt;
    }
    if (parsed->count() < 0) {
      out.Error(std::string(field), std::string(name) + " " + *text + " is negative");
      return std::nullopt;
    }
    return parsed->count();
  };
  auto hold = duration("spec.holdTime", "holdTime", object.hold_time);
  const std::string hold_text = object.hold_time.value_or("");
  if (hold && *hold != 0 && *hold < 3 * kSecond) {
    out.Error("spec.holdTime", "holdTime " + hold_text +
                                   " must be 0 (no keepalives) or at least 3s (RFC 4271 §4.2)");
    hold.reset();
  } else if (hold && *hold > 65535 * kSecond) {
    out.Error("spec.holdTime", "holdTime " + hold_text +
                                   " exceeds 65535s, the largest BGP hold time (RFC 4271 §4.2)");
    hold.reset();
  }
  auto keepalive = duration("spec.keepaliveTime", "keepaliveTime", object.keepalive_time);
  if (keepalive) {
    bool hold_valid = !object.hold_time || hold.has_value();
    std::int64_t effective_hold = hold.value_or(90 * kSecond);
    std::string hold_name =
        !object.hold_time ? "the default holdTime 90s" : "holdTime " + hold_text;
    if (hold_valid && effective_hold != 0 && *keepalive >= effective_hold) {
      out.Error("spec.keepaliveTime",
                "keepaliveTime " + *object.keepalive_time + " must be less than " + hold_name);
    }
  }
  duration("spec.connectTime", "connectTime", object.connect_time);

  if (object.ebgp_multihop && IsInternal(object)) {
    out.Warning("spec.ebgpMultiHop", "ebgpMultiHop has no effect on an iBGP session");
  }
  if (!object.router_id.empty()) {
    auto router_id = ParseAddress(object.router_id);
    if (!router_id || router_id->v6) {
      out.Error("spec.routerID", Quote(object.router_id) + " is not an IPv4 address");
    }
  }
  for (std::size_t i = 0; i < object.node_selectors.size(); ++i) {
    ValidateSelector(object.node_selectors[i], Index("spec.nodeSelectors", i), out);
  }
  if (!object.password.empty() && !object.password_secret.name.empty()) {
    out.Error("spec.password",
              "password and passwordSecret are mutually exclusive; set one of them");
  }
  return out;
}

}  // namespace bgpcomm::community
