// Every admission rule of bgpcomm as a pure function (DESIGN.md "Admission rules").
// Each returns all problems at once, each with its field path; errors deny, warnings are
// reported. The webhook, `bgpcomm lint` and `bgpcomm resolve` all decide with these.
#pragma once

#include <cstddef>
#include <string>

#include "community/alias_table.h"
#include "community/annotation.h"
#include "community/diagnostic.h"
#include "community/objects.h"
#include "community/resolve.h"

namespace bgpcomm::community {

enum class Operation { kCreate, kUpdate, kDelete };

struct AdmissionOptions {
  std::string configured_namespace{kDefaultNamespace};
  UnresolvedPolicy unresolved = UnresolvedPolicy::kReject;
  ExpandMode expand = ExpandMode::kAnnotation;
};

// The stored state of the object's namespace. It may hold the object itself (on UPDATE,
// its old version); the rules skip an entry with the object's own name where they judge
// it against the others. `aliases` is AliasTable::Build(objects.communities).
struct NamespaceContext {
  NamespaceView objects;
  const AliasTable& aliases;
};

// Community CREATE/UPDATE: values parse; names are non-empty, have no ':', are unique in
// the object and across the namespace; shadowing a well-known name warns; on UPDATE
// removing or renaming an alias still referenced is denied naming the advertisements,
// and changing a referenced value warns how many advertisements will be re-resolved.
Diagnostics ValidateCommunity(const CommunityObject& object, const CommunityObject* old_object,
                              const NamespaceContext& context, const AdmissionOptions& options);

// Community DELETE: denied while any alias it defines (and no other Community of the
// namespace defines) is referenced by an advertisement, naming them.
Diagnostics ValidateCommunityDelete(const CommunityObject& old_object,
                                    const NamespaceContext& context,
                                    const AdmissionOptions& options);

struct AdvertisementDecision {
  Diagnostics diagnostics;
  StoredCommunities stored;  // meaningful when diagnostics has no errors
};

// BGPAdvertisement CREATE/UPDATE: entries resolve (did-you-mean for unknown aliases);
// aggregationLength 1..32 / aggregationLengthV6 1..128 and no shorter than any selected
// pool's CIDRs (for a range, than the widest CIDR covering it; narrower ones warn);
// selectors are well-formed; no duplicate entries in ipAddressPools, peers, communities
// and each selector list; serviceSelectors only with the default aggregation lengths; no
// other advertisement of a shared pool, peer and node with the same aggregation and a
// different localPref or asPathPrepend (MetalLB 0.16's rules); the resolved communities
// fit in one UPDATE; warnings for localPref towards eBGP-only peers, missing pools or
// peers, and advertisements selecting the same pool, nodes and peers with different
// communities. Also computes what to store.
AdvertisementDecision ValidateAdvertisement(const Advertisement& object,
                                            const Advertisement* old_object,
                                            const NamespaceContext& context,
                                            const AdmissionOptions& options);
// Only what ValidateAdvertisement computes to store, with the namespace and resolution
// diagnostics (unknown aliases, bad values): what the mutating endpoint needs to decide its
// patch. The other rules are the validating endpoint's, which denies on them.
AdvertisementDecision ResolveAdvertisement(const Advertisement& object,
                                           const Advertisement* old_object,
                                           const NamespaceContext& context,
                                           const AdmissionOptions& options);

// IPAddressPool CREATE/UPDATE: at least one address; every address is a CIDR or a range
// of one family; none overlaps another of this pool or of another pool of the namespace
// (naming both); serviceAllocation's namespaces and selectors valid and without duplicates.
Diagnostics ValidatePool(const AddressPool& object, const NamespaceContext& context,
                         const AdmissionOptions& options);

// BGPPeer CREATE/UPDATE: ASNs 1..4294967295, peerAddress or interface (not both; interface
// alone warns that the speaker cannot peer that way), port 1..16384, hold time 0 or 3s..,
// keepalive not above hold time, connectTime whole seconds 1s..65535s, selectors; against
// the other peers of the namespace sharing a node: not the same address, the same myASN
// (within a VRF) and routerID; a named bfdProfile exists; a passwordSecret found among
// `context.objects.secrets` is of type kubernetes.io/basic-auth with a `password` key.
Diagnostics ValidatePeer(const Peer& object, const NamespaceContext& context,
                         const AdmissionOptions& options);

// BFDProfile CREATE/UPDATE: intervals 10..60000 ms, detectMultiplier 2..255, minimumTtl
// 1..254 (MetalLB's CRD bounds); echoMode true warns (no echo function in the speaker).
Diagnostics ValidateBfdProfile(const BfdProfile& object, const AdmissionOptions& options);

// BFDProfile DELETE: denied while a BGPPeer of the namespace names it, naming the peers.
Diagnostics ValidateBfdProfileDelete(const BfdProfile& old_object,
                                     const NamespaceContext& context,
                                     const AdmissionOptions& options);

// An error on metadata.namespace when `namespace_name` is not the configured one: MetalLB
// denies every object outside its namespace ("resource must be created in metallb-system
// namespace"), and bgpcomm says the same with its configured namespace.
void CheckNamespace(std::string_view namespace_name, const AdmissionOptions& options,
                    Diagnostics& out);

// The most octets of COMMUNITIES and LARGE_COMMUNITY attributes (headers included) an
// UPDATE can carry beside the other path attributes the speaker sends and one prefix:
// 4096 (RFC 4271 §4.1) - 19 header - 4 length fields - ORIGIN 4 - LOCAL_PREF 7 - the
// longest AS path (our ASN and 10 prepends on a 2-octet session: AS_PATH 27 + AS4_PATH 49,
// RFC 6793 §4.2.2) - MP_REACH_NLRI with a 32-octet IPv6 next hop and one /128 (58).
inline constexpr std::size_t kMaxCommunityOctets = 4096 - 19 - 4 - 4 - 7 - 27 - 49 - 58;

// Octets the COMMUNITIES and LARGE_COMMUNITY attributes take for `standard` and `large`
// values (attribute headers with the extended length where needed; 0 when none).
std::size_t CommunityAttributeOctets(std::size_t standard, std::size_t large);

}  // namespace bgpcomm::community
