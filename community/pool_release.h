// IPAddressPool UPDATE and DELETE: which addresses that Services hold the change takes
// away from the pool. A warning, not a denial: the allocator gives those Services new
// addresses, and their routes move (DESIGN.md "Admission rules", issue 14 item 3).
#pragma once

#include <span>

#include "community/diagnostic.h"
#include "community/objects.h"

namespace bgpcomm::community {

// Warns (on `spec.addresses`, or `metadata.name` for a deletion) when addresses held by
// LoadBalancer Services (status.loadBalancer.ingress[].ip) are in `old_pool` and not in
// `new_pool` (null: the pool is deleted), or become .0/.255 addresses that
// `avoidBuggyIPs: true` excludes. The message names how many Services lose an address and
// at most three of them (`namespace/name (address)`), in namespace/name order.
Diagnostics WarnAddressesTaken(const AddressPool& old_pool, const AddressPool* new_pool,
                               std::span<const ServiceObject> services);

}  // namespace bgpcomm::community
