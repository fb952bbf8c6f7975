// Decodes BGP messages from untrusted bytes. Every length is checked against the
// message and the enclosing field before it is used; malformed input yields the
// NOTIFICATION that RFC 4271 §6 (as revised by RFC 7606) prescribes, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "speaker/bgp_message.h"

namespace bgpcomm::speaker {

// Framing for a TCP byte stream: the length of the message at the front of `buffer`, or
// nullopt when fewer than 19 octets have arrived. Fails (Message Header Error, RFC 4271
// §6.1) when the marker is not all ones or the length field is outside 19..4096.
std::expected<std::optional<std::size_t>, DecodeError> FrameLength(
    std::span<const std::uint8_t> buffer);

// Decodes exactly one message; `message` must be the whole message and nothing more.
//
// Session resets are errors: header errors (1/x), OPEN errors (2/x), UPDATE errors that
// RFC 7606 leaves fatal (lengths that do not add up, a malformed NLRI, withdrawn routes,
// MP_REACH_NLRI or MP_UNREACH_NLRI field, an unrecognized well-known attribute, a
// duplicated MP attribute), and ROUTE-REFRESH of the wrong length (7/1). Malformed
// attributes that RFC 7606 §7 lets the session survive are decoded into
// UpdateMessage::attribute_errors instead (treat-as-withdraw or attribute-discard).
//
// UPDATE-level choices (RFC 7606): duplicate attributes other than MP_* keep the first
// (§3 g); a missing ORIGIN or AS_PATH on an UPDATE announcing routes, or NEXT_HOP with
// IPv4 NLRI, is treat-as-withdraw (§3 d); MP_REACH_NLRI/MP_UNREACH_NLRI of a family other
// than IPv4/IPv6 unicast are kept as RawAttribute; on a 2-octet session AS4_PATH is merged
// into as_path (RFC 6793 §4.2.3), on a 4-octet session it is discarded (RFC 6793 §6).
std::expected<Message, DecodeError> Decode(std::span<const std::uint8_t> message,
                                           const CodecOptions& options);

}  // namespace bgpcomm::speaker
