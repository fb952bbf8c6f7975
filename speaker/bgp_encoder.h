// Encodes BGP messages to wire bytes (RFC 4271 §4 and the extensions in bgp_message.h).
#pragma once

#include <cstdint>
#include <expected>
#include <vector>

#include "speaker/bgp_message.h"

namespace bgpcomm::speaker {

using Bytes = std::vector<std::uint8_t>;

// The complete message, header included. Fails when the result would exceed 4096 octets
// (RFC 4271 §4.1) or a field does not fit its wire width (e.g. more than 255 optional
// parameter octets in OPEN, a prefix of a family other than the field's).
std::expected<Bytes, EncodeError> Encode(const Message& message, const CodecOptions& options);

std::expected<Bytes, EncodeError> EncodeOpen(const OpenMessage& open);
std::expected<Bytes, EncodeError> EncodeUpdate(const UpdateMessage& update,
                                               const CodecOptions& options);
Bytes EncodeKeepalive();
std::expected<Bytes, EncodeError> EncodeNotification(const NotificationMessage& notification);
Bytes EncodeRouteRefresh(const RouteRefreshMessage& refresh);

// The path attributes field of an UPDATE (without its 2-octet length), attributes in the
// order RFC 7606 §5.1 recommends: MP_REACH_NLRI and MP_UNREACH_NLRI first, then ascending
// type code (RFC 4271 §5). Each attribute gets the Extended Length flag (0x10) exactly
// when its value exceeds 255 octets.
std::expected<Bytes, EncodeError> EncodePathAttributes(const PathAttributes& attributes,
                                                       const CodecOptions& options);

// Appends the NLRI encoding of `prefix` (RFC 4271 §4.3): length octet, then the minimum
// number of octets holding `length` bits.
void AppendPrefix(Bytes& out, const IpPrefix& prefix);

}  // namespace bgpcomm::speaker
