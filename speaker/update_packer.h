// Packs routes that share one set of path attributes into as few UPDATE messages as fit
// in 4096 octets (RFC 4271 §4.1), and builds End-of-RIB markers (RFC 4724 §2).
#pragma once

#include <expected>
#include <optional>
#include <span>
#include <vector>

#include "speaker/bgp_encoder.h"
#include "speaker/bgp_message.h"

namespace bgpcomm::speaker {

// Next hops for announcements: `ipv4` goes into NEXT_HOP, `ipv6` (plus the optional
// link-local address, RFC 2545 §3) into MP_REACH_NLRI.
struct NextHops {
  std::optional<IpAddress> ipv4;
  std::optional<IpAddress> ipv6;
  std::optional<IpAddress> ipv6_link_local;
};

// UPDATE messages announcing `prefixes` with `attributes` (whose next_hop, mp_reach and
// mp_unreach are ignored): IPv4 prefixes in the NLRI field with NEXT_HOP = next_hops.ipv4,
// then IPv6 prefixes in MP_REACH_NLRI. Prefixes keep their order; each message takes as
// many as fit. Fails when a family's next hop is missing or the attributes alone leave no
// room for one prefix.
std::expected<std::vector<Bytes>, EncodeError> PackAnnouncements(const PathAttributes& attributes,
                                                                 const NextHops& next_hops,
                                                                 std::span<const IpPrefix> prefixes,
                                                                 const CodecOptions& options);

// UPDATE messages withdrawing `prefixes`: IPv4 in the Withdrawn Routes field, IPv6 in
// MP_UNREACH_NLRI, as many per message as fit.
std::expected<std::vector<Bytes>, EncodeError> PackWithdrawals(std::span<const IpPrefix> prefixes,
                                                               const CodecOptions& options);

// The End-of-RIB marker (RFC 4724 §2): for IPv4 unicast an UPDATE with no withdrawn
// routes, attributes or NLRI; for any other family an UPDATE holding only an empty
// MP_UNREACH_NLRI of that family.
Bytes EncodeEndOfRib(AfiSafi family);

}  // namespace bgpcomm::speaker
