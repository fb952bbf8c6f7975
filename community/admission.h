// Every admission rule of bgpcomm as a pure function (DESIGN.md "Admission rules").
// Each returns all problems at once, each with its field path; errors deny, warnings are
// reported. The webhook, `bgpcomm lint` and `bgpcomm resolve` all decide with these.
#pragma once

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
  const NamespaceObjects& objects;
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
// pool's prefixes; selectors are well-formed; warnings for localPref towards eBGP-only
// peers, missing pools or peers, and advertisements selecting the same pool, nodes and
// peers with different communities. Also computes what to store.
AdvertisementDecision ValidateAdvertisement(const Advertisement& object,
                                            const Advertisement* old_object,
                                            const NamespaceContext& context,
                                            const AdmissionOptions& options);

// IPAddressPool CREATE/UPDATE: every address is a CIDR or a range of one family.
Diagnostics ValidatePool(const AddressPool& object, const AdmissionOptions& options);

// BGPPeer CREATE/UPDATE: ASNs 1..4294967295, address, port 1..65535, hold time 0 or 3s..,
// keepalive below hold time, selectors.
Diagnostics ValidatePeer(const Peer& object, const AdmissionOptions& options);

// A warning on metadata.namespace when `namespace_name` is not the configured one.
void CheckNamespace(std::string_view namespace_name, const AdmissionOptions& options,
                    Diagnostics& out);

}  // namespace bgpcomm::community
