#include "community/admission.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <variant>
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

// Errors for entries of `items` equal to an earlier one, e.g.
// `spec.peers[2]: "router-a" is already listed at spec.peers[0]` (MetalLB denies
// duplicate definitions).
void CheckDuplicates(const std::vector<std::string>& items, std::string_view field,
                     Diagnostics& out) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (items[j] == items[i]) {
        out.Error(Index(field, i),
                  Quote(items[i]) + " is already listed at " + Index(field, j));
        break;
      }
    }
  }
}

// The selector with every matchExpressions' values sorted: MetalLB compares selectors so.
LabelSelector Normalized(LabelSelector selector) {
  for (auto& requirement : selector.match_expressions) {
    std::sort(requirement.values.begin(), requirement.values.end());
  }
  return selector;
}

// Syntax, duplicate values and expressions inside each selector, and duplicate selectors.
void CheckSelectors(const std::vector<LabelSelector>& selectors, std::string_view field,
                    Diagnostics& out) {
  for (std::size_t i = 0; i < selectors.size(); ++i) {
    const std::string path = Index(field, i);
    ValidateSelector(selectors[i], path, out);
    const auto& expressions = selectors[i].match_expressions;
    for (std::size_t e = 0; e < expressions.size(); ++e) {
      const std::string expression_path = Index(path + ".matchExpressions", e);
      CheckDuplicates(expressions[e].values, expression_path + ".values", out);
      LabelSelector one{{}, {expressions[e]}};
      for (std::size_t f = 0; f < e; ++f) {
        if (Normalized(one) == Normalized(LabelSelector{{}, {expressions[f]}})) {
          out.Error(expression_path,
                    "duplicates " + Index(path + ".matchExpressions", f));
          break;
        }
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (Normalized(selectors[j]) == Normalized(selectors[i])) {
        out.Error(path, "duplicates " + Index(field, j));
        break;
      }
    }
  }
}

// Names of the known nodes that `selectors` select (all of them when it is empty).
std::set<std::string> SelectedNodes(const std::vector<LabelSelector>& selectors,
                                    const std::vector<NodeSummary>& nodes) {
  std::set<std::string> names;
  for (const auto& node : nodes) {
    if (selectors.empty() || std::any_of(selectors.begin(), selectors.end(), [&](const auto& s) {
          return Matches(s, node.labels);
        })) {
      names.insert(node.name);
    }
  }
  return names;
}

// Whether two objects' nodeSelectors select a common node. With the cluster's nodes
// known this is exact; without them, `unknown` answers for selectors that differ, and
// selectors equal as written or one of them empty (every node) share a node.
bool ShareNode(const std::vector<LabelSelector>& a, const std::vector<LabelSelector>& b,
               const std::optional<std::vector<NodeSummary>>& nodes, bool unknown) {
  if (nodes) {
    std::set<std::string> first = SelectedNodes(a, *nodes);
    std::set<std::string> second = SelectedNodes(b, *nodes);
    return std::any_of(first.begin(), first.end(),
                       [&](const auto& name) { return second.contains(name); });
  }
  if (a.empty() || b.empty() || a == b) return true;
  return unknown;
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

References AllReferences(const NamespaceView& objects) {
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
                                              const NamespaceView& objects) {
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
                                       const NamespaceView& objects) {
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
      // MetalLB denies when the aggregate is wider than an entry's widest CIDR (for a range,
      // the CIDRs that cover it exactly); an aggregate wider than a range's narrowest CIDR
      // also covers addresses outside the range, which MetalLB accepts: a warning.
      // One finding per pool, for the entry that decides it.
      std::optional<Prefix> denying;
      std::string denying_entry;
      std::optional<Prefix> warning;
      std::string warning_entry;
      for (const auto& entry : pool->addresses) {
        auto prefixes = ParsePoolEntry(entry);
        if (!prefixes || prefixes->empty() || prefixes->front().address.v6 != family.v6) continue;
        const Prefix* widest = &prefixes->front();
        const Prefix* narrowest = &prefixes->front();
        for (const auto& prefix : *prefixes) {
          if (prefix.length < widest->length) widest = &prefix;
          if (prefix.length > narrowest->length) narrowest = &prefix;
        }
        if (length < widest->length && (!denying || widest->length > denying->length)) {
          denying = *widest;
          denying_entry = entry;
        }
        if (length < narrowest->length && (!warning || narrowest->length > warning->length)) {
          warning = *narrowest;
          warning_entry = entry;
        }
      }
      if (denying) {
        std::string where = Format(*denying);
        if (denying_entry.find('-') != std::string::npos) where += " (of " + denying_entry + ")";
        out.Error(family.field, std::string(family.name) + " " + std::to_string(length) +
                                    " is shorter than the prefix length " +
                                    std::to_string(denying->length) + " of " + where +
                                    " in IPAddressPool " + pool->meta.name +
                                    "; the aggregate would cover addresses outside the pool");
      } else if (warning) {
        out.Warning(family.field,
                    std::string(family.name) + " " + std::to_string(length) + " aggregates " +
                        Format(*warning) + " of the range " + warning_entry +
                        " in IPAddressPool " + pool->meta.name + " into " +
                        Format(Truncate(warning->address, static_cast<int>(length))) +
                        ", which covers addresses outside the pool");
      }
    }
  }
}

void CheckLocalPref(const Advertisement& object, const NamespaceView& objects,
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

// MetalLB 0.16 denies two advertisements without serviceSelectors that can produce the
// same UPDATE (a shared pool, peer and node, and the same aggregation length for the
// pool's families) with a different localPref or asPathPrepend: a route carries one of
// each. One error per other advertisement.
void CheckConflicts(const Advertisement& object, const std::vector<const AddressPool*>& pools,
                    const NamespaceView& objects, Diagnostics& out) {
  if (!object.service_selectors.empty()) return;
  const std::int64_t own_v4 = object.aggregation_length.value_or(32);
  const std::int64_t own_v6 = object.aggregation_length_v6.value_or(128);
  for (const auto& other : objects.advertisements) {
    if (other.meta.name == object.meta.name || !other.service_selectors.empty()) continue;
    bool peers_shared = other.peers.empty() || object.peers.empty() ||
                        std::any_of(other.peers.begin(), other.peers.end(),
                                    [&](const auto& p) { return Contains(object.peers, p); });
    if (!peers_shared) continue;
    if (!ShareNode(object.node_selectors, other.node_selectors, objects.nodes, false)) continue;
    const bool same_v4 = other.aggregation_length.value_or(32) == own_v4;
    const bool same_v6 = other.aggregation_length_v6.value_or(128) == own_v6;
    std::optional<std::string> shared_pool;
    for (const AddressPool* pool : SelectedPools(other, objects)) {
      if (std::find(pools.begin(), pools.end(), pool) == pools.end()) continue;
      bool v4 = false;
      bool v6 = false;
      for (const auto& entry : pool->addresses) {
        if (auto prefixes = ParsePoolEntry(entry); prefixes && !prefixes->empty()) {
          (prefixes->front().address.v6 ? v6 : v4) = true;
        }
      }
      // As MetalLB: a pool of one family overlaps when that family's lengths are equal; a
      // dual-stack pool when either family's are.
      bool overlap = (v4 && v6) ? (same_v4 || same_v6) : v4 ? same_v4 : v6 ? same_v6 : false;
      if (overlap) {
        shared_pool = pool->meta.name;
        break;
      }
    }
    if (!shared_pool) continue;
    const std::string why = " of BGPAdvertisement " + other.meta.name +
                            ", which announces IPAddressPool " + *shared_pool +
                            " with the same aggregation length to a shared peer from a shared "
                            "node; ";
    const std::int64_t own_pref = object.local_pref.value_or(0);
    const std::int64_t their_pref = other.local_pref.value_or(0);
    const std::int64_t own_prepend = object.as_path_prepend.value_or(0);
    const std::int64_t their_prepend = other.as_path_prepend.value_or(0);
    if (own_pref != their_pref) {
      out.Error("spec.localPref", "localPref " + std::to_string(own_pref) + " differs from localPref " +
                                      std::to_string(their_pref) + why +
                                      "a route carries one LOCAL_PREF (unset counts as 0)");
    } else if (own_prepend != their_prepend) {
      out.Error("spec.asPathPrepend",
                "asPathPrepend " + std::to_string(own_prepend) + " differs from asPathPrepend " +
                    std::to_string(their_prepend) + why + "a route carries one AS path");
    }
  }
}

// Denies a resolution whose COMMUNITIES and LARGE_COMMUNITY attributes leave no room in a
// 4096-octet UPDATE: the speaker could never announce it.
void CheckCommunitiesFit(const std::vector<std::string>& communities, Diagnostics& out) {
  std::size_t standard = 0;
  std::size_t large = 0;
  for (const auto& text : communities) {
    auto parsed = ParseValue(text);
    if (!parsed) continue;
    (std::holds_alternative<LargeCommunity>(parsed->value) ? large : standard) += 1;
  }
  const std::size_t octets = CommunityAttributeOctets(standard, large);
  if (octets <= kMaxCommunityOctets) return;
  out.Error("spec.communities",
            std::to_string(standard) + " standard and " + std::to_string(large) +
                " large communities take " + std::to_string(octets) +
                " octets; with the other path attributes and one prefix an UPDATE holds at most " +
                std::to_string(kMaxCommunityOctets) +
                " octets of communities (RFC 4271 §4.1: 4096-octet messages), so no route "
                "could be announced");
}

// ---- BGPPeer ------------------------------------------------------------------------

void CheckAsn(std::string_view field, std::string_view name, std::optional<std::int64_t> asn,
              Diagnostics& out) {
  if (asn && (*asn < 1 || *asn > kMaxUint32)) {
    out.Error(std::string(field),
              std::string(name) + " " + std::to_string(*asn) + " is out of range 1..4294967295");
  }
}

// A passwordSecret among the namespace's known Secrets must be what MetalLB reads: type
// kubernetes.io/basic-auth with a `password` key. A Secret bgpcomm cannot see is not judged.
void CheckPasswordSecret(const Peer& object, const NamespaceView& objects, Diagnostics& out) {
  if (object.password_secret.name.empty()) return;
  // The name becomes a segment of the speaker's request URL: only a name the API server
  // could have stored is read (never '/', '?', '..', CR or LF).
  if (!IsDnsSubdomain(object.password_secret.name)) {
    out.Error("spec.passwordSecret.name",
              Quote(object.password_secret.name) +
                  " is not a valid Secret name (a DNS-1123 subdomain: at most 253 characters, "
                  "dot-separated parts of lowercase alphanumerics and '-', each starting and "
                  "ending with an alphanumeric)");
    return;
  }
  for (const auto& secret : objects.secrets) {
    if (secret.meta.name != object.password_secret.name) continue;
    if (secret.type != "kubernetes.io/basic-auth") {
      out.Error("spec.passwordSecret", "Secret " + secret.meta.name + " is of type " +
                                           (secret.type.empty() ? "Opaque" : secret.type) +
                                           "; a BGP password is read only from a Secret of "
                                           "type kubernetes.io/basic-auth");
    } else if (!Contains(secret.data_keys, "password")) {
      out.Error("spec.passwordSecret",
                "Secret " + secret.meta.name + " has no password key; the BGP password is read "
                                               "from its data.password");
    }
    return;
  }
}

void CheckBfdProfileExists(const Peer& object, const NamespaceView& objects,
                           const AdmissionOptions& options, Diagnostics& out) {
  if (object.bfd_profile.empty()) return;
  if (std::any_of(objects.bfd_profiles.begin(), objects.bfd_profiles.end(),
                  [&](const auto& profile) { return profile.meta.name == object.bfd_profile; })) {
    return;
  }
  const std::string message = "BFDProfile " + Quote(object.bfd_profile) +
                              " does not exist in namespace " + objects.namespace_name;
  if (options.unresolved == UnresolvedPolicy::kWarn) {
    out.Warning("spec.bfdProfile", message + "; the session runs without BFD until it is created");
  } else {
    out.Error("spec.bfdProfile", message + "; create the BFDProfile first");
  }
}

// The identifier MetalLB gives a peer on a node: its address or interface, and its VRF.
std::string PeerIdentifier(const Peer& peer) {
  std::string id = peer.peer_address.empty() ? peer.interface : peer.peer_address;
  if (!peer.vrf.empty()) id += " in VRF " + peer.vrf;
  return id;
}

// MetalLB (FRR mode) runs every peer selecting a node in one BGP instance there: two
// such peers need the same routerID, the same myASN within a VRF, and different
// addresses (one TCP session per address). Without the cluster's nodes, peers whose
// nodeSelectors differ are assumed to share a node, as MetalLB assumes.
void CheckSharedNodes(const Peer& object, const NamespaceView& objects, Diagnostics& out) {
  for (const auto& other : objects.peers) {
    if (other.meta.name == object.meta.name) continue;
    if (!ShareNode(object.node_selectors, other.node_selectors, objects.nodes, true)) continue;
    const std::string on = "BGPPeer " + other.meta.name + " selects a node this one selects; ";
    if (!PeerIdentifier(object).empty() && PeerIdentifier(object) == PeerIdentifier(other)) {
      out.Error(object.peer_address.empty() ? "spec.interface" : "spec.peerAddress",
                on + "both peer with " + PeerIdentifier(object) +
                    ", and a node has one session per address");
    }
    if (object.router_id != other.router_id) {
      auto shown = [](const std::string& id) { return id.empty() ? std::string("unset") : id; };
      out.Error("spec.routerID", on + "its routerID is " + shown(other.router_id) +
                                     " and this one's " + shown(object.router_id) +
                                     "; peers on one node share one router ID");
    }
    if (object.my_asn && other.my_asn && *object.my_asn != *other.my_asn &&
        object.vrf == other.vrf) {
      out.Error("spec.myASN", on + "its myASN is " + std::to_string(*other.my_asn) +
                                  " and this one's " + std::to_string(*object.my_asn) +
                                  "; peers on one node (and VRF) speak as one ASN");
    }
  }
}

}  // namespace

void CheckNamespace(std::string_view namespace_name, const AdmissionOptions& options,
                    Diagnostics& out) {
  if (namespace_name.empty() || namespace_name == options.configured_namespace) return;
  out.Error("metadata.namespace", "resource must be created in " + options.configured_namespace +
                                      " namespace, not in " + std::string(namespace_name) +
                                      " (the namespace bgpcomm serves)");
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

AdvertisementDecision ResolveAdvertisement(const Advertisement& object,
                                           const Advertisement* old_object,
                                           const NamespaceContext& context,
                                           const AdmissionOptions& options) {
  AdvertisementDecision decision;
  CheckNamespace(object.meta.namespace_name, options, decision.diagnostics);
  Advertisement named = object;
  if (named.meta.namespace_name.empty()) named.meta.namespace_name = context.objects.namespace_name;
  decision.stored = ComputeStored(named, old_object, context.aliases, options.unresolved,
                                  options.expand, decision.diagnostics);
  return decision;
}

AdvertisementDecision ValidateAdvertisement(const Advertisement& object,
                                            const Advertisement* old_object,
                                            const NamespaceContext& context,
                                            const AdmissionOptions& options) {
  AdvertisementDecision decision = ResolveAdvertisement(object, old_object, context, options);
  Diagnostics& out = decision.diagnostics;
  const std::string& namespace_name = object.meta.namespace_name.empty()
                                          ? context.objects.namespace_name
                                          : object.meta.namespace_name;
  std::vector<const AddressPool*> pools = SelectedPools(object, context.objects);
  CheckAggregation(object, pools, out);
  for (auto [family, name, value, bits] :
       {std::tuple{"spec.aggregationLength", "aggregationLength", object.aggregation_length, 32},
        std::tuple{"spec.aggregationLengthV6", "aggregationLengthV6",
                   object.aggregation_length_v6, 128}}) {
    if (!object.service_selectors.empty() && value && *value != bits) {
      out.Error(family, std::string("serviceSelectors and ") + name + " " +
                            std::to_string(*value) +
                            " exclude each other: an aggregate covers Services the selectors "
                            "leave out; remove one of them");
    }
  }
  CheckLocalPref(object, context.objects, out);
  if (object.as_path_prepend && (*object.as_path_prepend < 1 || *object.as_path_prepend > 10)) {
    out.Error("spec.asPathPrepend", "asPathPrepend " + std::to_string(*object.as_path_prepend) +
                                        " is out of range 1..10");
  }
  CheckDuplicates(object.ip_address_pools, "spec.ipAddressPools", out);
  CheckDuplicates(object.peers, "spec.peers", out);
  {
    // An entry written twice is MetalLB's "duplicate definition of community": an error,
    // which replaces the resolver's "announced once" warning for that entry.
    Diagnostics duplicates;
    CheckDuplicates(object.communities, "spec.communities", duplicates);
    for (const auto& error : duplicates.items) {
      std::erase_if(out.items, [&](const Diagnostic& d) {
        return d.severity == Severity::kWarning && d.field == error.field &&
               d.message.find(" duplicates spec.communities[") != std::string::npos;
      });
      out.items.push_back(error);
    }
  }
  CheckSelectors(object.service_selectors, "spec.serviceSelectors", out);

  for (std::size_t i = 0; i < object.ip_address_pools.size(); ++i) {
    const std::string& name = object.ip_address_pools[i];
    if (std::none_of(context.objects.pools.begin(), context.objects.pools.end(),
                     [&](const auto& pool) { return pool.meta.name == name; })) {
      out.Warning(Index("spec.ipAddressPools", i),
                  "IPAddressPool " + Quote(name) + " does not exist in namespace " +
                      namespace_name + "; nothing is announced from it until it is created");
    }
  }
  CheckSelectors(object.ip_address_pool_selectors, "spec.ipAddressPoolSelectors", out);
  CheckSelectors(object.node_selectors, "spec.nodeSelectors", out);
  for (std::size_t i = 0; i < object.peers.size(); ++i) {
    const std::string& name = object.peers[i];
    if (std::none_of(context.objects.peers.begin(), context.objects.peers.end(),
                     [&](const auto& peer) { return peer.meta.name == name; })) {
      out.Warning(Index("spec.peers", i), "BGPPeer " + Quote(name) +
                                              " does not exist in namespace " + namespace_name +
                                              "; nothing is announced to it until it is created");
    }
  }
  CheckConflicts(object, pools, context.objects, out);
  CheckCommunitiesFit(decision.stored.resolution.communities, out);
  CheckOverlaps(object, pools, decision.stored.resolution.communities, context, out);
  return decision;
}

Diagnostics ValidatePool(const AddressPool& object, const NamespaceContext& context,
                         const AdmissionOptions& options) {
  Diagnostics out;
  CheckNamespace(object.meta.namespace_name, options, out);
  if (object.addresses.empty()) {
    out.Error("spec.addresses", "an IPAddressPool needs at least one address (a CIDR or a range)");
  }
  // Every other pool's entries, parsed once.
  struct OtherEntry {
    const AddressPool* pool;
    const std::string* entry;
    std::vector<Prefix> prefixes;
  };
  std::vector<OtherEntry> others;
  for (const auto& pool : context.objects.pools) {
    if (pool.meta.name == object.meta.name) continue;
    for (const auto& entry : pool.addresses) {
      if (auto prefixes = ParsePoolEntry(entry)) others.push_back({&pool, &entry, *prefixes});
    }
  }
  auto overlap = [](const Prefix& a, const Prefix& b) {
    return a.address.v6 == b.address.v6 && (Contains(a, b.address) || Contains(b, a.address));
  };
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
        if (overlap(prefix, other)) {
          out.Error(path, Quote(object.addresses[i]) + " overlaps " + Index("spec.addresses", j) +
                              " (" + Quote(object.addresses[j]) + ")");
          reported = true;
        }
      }
    }
    for (const auto& prefix : *prefixes) seen.emplace_back(i, prefix);
    if (reported) continue;
    for (const auto& other : others) {
      if (std::any_of(prefixes->begin(), prefixes->end(), [&](const Prefix& prefix) {
            return std::any_of(other.prefixes.begin(), other.prefixes.end(),
                               [&](const Prefix& theirs) { return overlap(prefix, theirs); });
          })) {
        out.Error(path, Quote(object.addresses[i]) + " of IPAddressPool " + object.meta.name +
                            " overlaps " + Quote(*other.entry) + " of IPAddressPool " +
                            other.pool->meta.name + "; an address belongs to one pool");
        break;
      }
    }
  }
  if (object.service_allocation) {
    const ServiceAllocation& allocation = *object.service_allocation;
    CheckDuplicates(allocation.namespaces, "spec.serviceAllocation.namespaces", out);
    CheckSelectors(allocation.namespace_selectors, "spec.serviceAllocation.namespaceSelectors",
                   out);
    CheckSelectors(allocation.service_selectors, "spec.serviceAllocation.serviceSelectors", out);
  }
  return out;
}

Diagnostics ValidatePeer(const Peer& object, const NamespaceContext& context,
                         const AdmissionOptions& options) {
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
  CheckAsn("spec.localASN", "localASN", object.local_asn, out);

  std::optional<IpAddress> peer_address;
  if (object.peer_address.empty() && object.interface.empty()) {
    out.Error("spec.peerAddress", "peerAddress is required (or interface, for unnumbered BGP)");
  } else if (!object.peer_address.empty() && !object.interface.empty()) {
    out.Error("spec.interface",
              "peerAddress and interface are mutually exclusive; set one of them");
  } else if (object.peer_address.empty()) {
    out.Warning("spec.interface",
                "bgpcomm's speaker cannot peer over an interface (unnumbered BGP) yet; no "
                "session is opened for this BGPPeer");
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
  if (object.peer_port && (*object.peer_port < 1 || *object.peer_port > 16384)) {
    out.Error("spec.peerPort",
              "peerPort " + std::to_string(*object.peer_port) + " is out of range 1..16384");
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
  // The valid hold time in nanoseconds; the largest value when absent or invalid.
  std::int64_t hold = std::numeric_limits<std::int64_t>::max();
  const std::string hold_text = object.hold_time.value_or("");
  if (auto parsed = duration("spec.holdTime", "holdTime", object.hold_time)) {
    if (*parsed != 0 && *parsed < 3 * kSecond) {
      out.Error("spec.holdTime", "holdTime " + hold_text +
                                     " must be 0 (no keepalives) or at least 3s (RFC 4271 §4.2)");
    } else if (*parsed > 65535 * kSecond) {
      out.Error("spec.holdTime", "holdTime " + hold_text +
                                     " exceeds 65535s, the largest BGP hold time (RFC 4271 §4.2)");
    } else {
      hold = *parsed;
    }
  }
  auto keepalive = duration("spec.keepaliveTime", "keepaliveTime", object.keepalive_time);
  // As MetalLB: without holdTime the hold time is 3 x keepaliveTime, so only both together
  // can conflict.
  if (keepalive.value_or(0) > hold) {
    out.Error("spec.keepaliveTime",
              "keepaliveTime " + *object.keepalive_time + " must not exceed holdTime " + hold_text);
  }
  if (auto connect = duration("spec.connectTime", "connectTime", object.connect_time)) {
    if (*connect % kSecond != 0) {
      out.Error("spec.connectTime",
                "connectTime " + *object.connect_time + " must be a whole number of seconds");
    } else if (*connect < kSecond || *connect > 65535 * kSecond) {
      out.Error("spec.connectTime",
                "connectTime " + *object.connect_time + " is out of range 1s..65535s");
    }
  }

  if (object.ebgp_multihop && IsInternal(object)) {
    out.Error("spec.ebgpMultiHop",
              "ebgpMultiHop is for eBGP peers; this is an iBGP session (myASN equals peerASN)");
  }
  if (!object.vrf.empty()) {
    out.Warning("spec.vrf", "bgpcomm's speaker cannot peer from a VRF (" + object.vrf +
                                ") yet; no session is opened for this BGPPeer");
  }
  if (object.disable_mp) {
    out.Warning("spec.disableMP",
                "disableMP is deprecated in MetalLB; the session carries only its own address "
                "family unless dualStackAddressFamily is set");
  }
  if (!object.router_id.empty()) {
    auto router_id = ParseAddress(object.router_id);
    if (!router_id || router_id->v6) {
      out.Error("spec.routerID", Quote(object.router_id) + " is not an IPv4 address");
    }
  }
  CheckSelectors(object.node_selectors, "spec.nodeSelectors", out);
  if (!object.password.empty() && !object.password_secret.name.empty()) {
    out.Error("spec.password",
              "password and passwordSecret are mutually exclusive; set one of them");
  }
  CheckPasswordSecret(object, context.objects, out);
  CheckBfdProfileExists(object, context.objects, options, out);
  CheckSharedNodes(object, context.objects, out);
  return out;
}

Diagnostics ValidateBfdProfile(const BfdProfile& object, const AdmissionOptions& options) {
  Diagnostics out;
  CheckNamespace(object.meta.namespace_name, options, out);
  struct Bound {
    const char* name;
    std::optional<std::int64_t> value;
    std::int64_t min;
    std::int64_t max;
    const char* unit;
  };
  for (const auto& bound : {Bound{"receiveInterval", object.receive_interval, 10, 60000, " ms"},
                            Bound{"transmitInterval", object.transmit_interval, 10, 60000, " ms"},
                            Bound{"detectMultiplier", object.detect_multiplier, 2, 255, ""},
                            Bound{"echoInterval", object.echo_interval, 10, 60000, " ms"},
                            Bound{"minimumTtl", object.minimum_ttl, 1, 254, ""}}) {
    if (bound.value && (*bound.value < bound.min || *bound.value > bound.max)) {
      out.Error(std::string("spec.") + bound.name,
                std::string(bound.name) + " " + std::to_string(*bound.value) +
                    " is out of range " + std::to_string(bound.min) + ".." +
                    std::to_string(bound.max) + bound.unit);
    }
  }
  if (object.echo_mode.value_or(false)) {
    out.Warning("spec.echoMode",
                "the echo function is not implemented: bgpcomm-speaker runs no BFD for the "
                "peers naming this profile; set echoMode to false (asynchronous mode detects "
                "a failure within transmitInterval x detectMultiplier)");
  }
  return out;
}

Diagnostics ValidateBfdProfileDelete(const BfdProfile& old_object,
                                     const NamespaceContext& context,
                                     const AdmissionOptions& /*options*/) {
  Diagnostics out;
  std::vector<std::string> users;
  for (const auto& peer : context.objects.peers) {
    if (peer.bfd_profile == old_object.meta.name) users.push_back(peer.meta.name);
  }
  std::sort(users.begin(), users.end());
  if (!users.empty()) {
    out.Error("metadata.name", "BFDProfile " + old_object.meta.name + " is used by " +
                                   KindAndNames("BGPPeer", users) +
                                   "; change the peers before deleting it");
  }
  return out;
}

std::size_t CommunityAttributeOctets(std::size_t standard, std::size_t large) {
  auto attribute = [](std::size_t value_octets) -> std::size_t {
    if (value_octets == 0) return 0;
    return value_octets + (value_octets > 255 ? 4 : 3);  // flags, type, 1- or 2-octet length
  };
  return attribute(4 * standard) + attribute(12 * large);
}

}  // namespace bgpcomm::community
