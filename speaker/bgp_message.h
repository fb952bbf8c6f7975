// BGP-4 messages (RFC 4271 §4) as plain values: what the encoder writes and the decoder
// returns. Wire sizes and codes are the RFCs'; nothing here does I/O.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "community/value.h"

namespace bgpcomm::speaker {

using community::LargeCommunity;
using community::StandardCommunity;

// RFC 4271 §4.1: every message starts with a 16-octet all-ones marker, a 2-octet length
// and a 1-octet type; the whole message is 19..4096 octets.
inline constexpr std::size_t kHeaderSize = 19;
inline constexpr std::size_t kMaxMessageSize = 4096;
inline constexpr std::size_t kMarkerSize = 16;

// An autonomous system number; 4 octets since RFC 6793.
class Asn {
 public:
  constexpr Asn() = default;
  constexpr explicit Asn(std::uint32_t value) : value_(value) {}
  constexpr std::uint32_t value() const { return value_; }
  // True when the number does not fit a 2-octet AS field (RFC 6793 §2 "non-mappable").
  constexpr bool IsFourOctetOnly() const { return value_ > 0xffff; }
  auto operator<=>(const Asn&) const = default;

 private:
  std::uint32_t value_ = 0;
};

// RFC 6793 §9: stands in for a 4-octet ASN wherever only 2 octets fit.
inline constexpr Asn kAsTrans{23456};

// Address Family Identifier (IANA); any 16-bit value may appear on the wire.
enum class Afi : std::uint16_t { kIpv4 = 1, kIpv6 = 2 };
// Subsequent Address Family Identifier (IANA); any 8-bit value may appear on the wire.
enum class Safi : std::uint8_t { kUnicast = 1 };

struct AfiSafi {
  Afi afi = Afi::kIpv4;
  Safi safi = Safi::kUnicast;
  auto operator<=>(const AfiSafi&) const = default;
};
inline constexpr AfiSafi kIpv4Unicast{Afi::kIpv4, Safi::kUnicast};
inline constexpr AfiSafi kIpv6Unicast{Afi::kIpv6, Safi::kUnicast};

// An IPv4 or IPv6 address in network byte order; IPv4 uses the first 4 octets and leaves
// the rest zero.
struct IpAddress {
  Afi afi = Afi::kIpv4;
  std::array<std::uint8_t, 16> bytes{};
  auto operator<=>(const IpAddress&) const = default;

  static IpAddress V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return IpAddress{Afi::kIpv4, {a, b, c, d}};
  }
  static IpAddress V6(const std::array<std::uint8_t, 16>& bytes) {
    return IpAddress{Afi::kIpv6, bytes};
  }
  // Octets on the wire: 4 for IPv4, 16 for IPv6.
  std::size_t Size() const { return afi == Afi::kIpv6 ? 16 : 4; }
};

// An IP prefix. Invariant kept by Make() and the decoder: length <= 32 (IPv4) or 128
// (IPv6) and every bit past `length` is zero.
struct IpPrefix {
  IpAddress address;
  std::uint8_t length = 0;
  auto operator<=>(const IpPrefix&) const = default;

  // The prefix of `length` bits containing `address`; nullopt when `length` exceeds the
  // family's bits.
  static std::optional<IpPrefix> Make(const IpAddress& address, int length);
  Afi afi() const { return address.afi; }
  // Octets of the NLRI encoding (RFC 4271 §4.3): the length octet plus ceil(length/8).
  std::size_t EncodedSize() const { return 1 + (std::size_t{length} + 7) / 8; }
};

enum class MessageType : std::uint8_t {
  kOpen = 1,
  kUpdate = 2,
  kNotification = 3,
  kKeepalive = 4,
  kRouteRefresh = 5,  // RFC 2918
};

// NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5) and subcodes (RFC 4271 §6).
namespace error {
inline constexpr std::uint8_t kMessageHeader = 1;
inline constexpr std::uint8_t kOpenMessage = 2;
inline constexpr std::uint8_t kUpdateMessage = 3;
inline constexpr std::uint8_t kHoldTimerExpired = 4;
inline constexpr std::uint8_t kFiniteStateMachine = 5;
inline constexpr std::uint8_t kCease = 6;
inline constexpr std::uint8_t kRouteRefreshMessage = 7;

inline constexpr std::uint8_t kUnspecific = 0;
// Message Header Error subcodes.
inline constexpr std::uint8_t kConnectionNotSynchronized = 1;
inline constexpr std::uint8_t kBadMessageLength = 2;
inline constexpr std::uint8_t kBadMessageType = 3;
// OPEN Message Error subcodes.
inline constexpr std::uint8_t kUnsupportedVersionNumber = 1;
inline constexpr std::uint8_t kBadPeerAs = 2;
inline constexpr std::uint8_t kBadBgpIdentifier = 3;
inline constexpr std::uint8_t kUnsupportedOptionalParameter = 4;
inline constexpr std::uint8_t kUnacceptableHoldTime = 6;
// UPDATE Message Error subcodes.
inline constexpr std::uint8_t kMalformedAttributeList = 1;
inline constexpr std::uint8_t kUnrecognizedWellKnownAttribute = 2;
inline constexpr std::uint8_t kMissingWellKnownAttribute = 3;
inline constexpr std::uint8_t kAttributeFlagsError = 4;
inline constexpr std::uint8_t kAttributeLengthError = 5;
inline constexpr std::uint8_t kInvalidOriginAttribute = 6;
inline constexpr std::uint8_t kInvalidNextHopAttribute = 8;
inline constexpr std::uint8_t kOptionalAttributeError = 9;
inline constexpr std::uint8_t kInvalidNetworkField = 10;
inline constexpr std::uint8_t kMalformedAsPath = 11;
// ROUTE-REFRESH Message Error subcodes (RFC 7313 §5).
inline constexpr std::uint8_t kInvalidMessageLength = 1;
}  // namespace error

// Path attribute type codes (IANA "BGP Path Attributes").
namespace attr {
inline constexpr std::uint8_t kOrigin = 1;
inline constexpr std::uint8_t kAsPath = 2;
inline constexpr std::uint8_t kNextHop = 3;
inline constexpr std::uint8_t kMultiExitDisc = 4;
inline constexpr std::uint8_t kLocalPref = 5;
inline constexpr std::uint8_t kAtomicAggregate = 6;
inline constexpr std::uint8_t kAggregator = 7;
inline constexpr std::uint8_t kCommunities = 8;
inline constexpr std::uint8_t kMpReachNlri = 14;
inline constexpr std::uint8_t kMpUnreachNlri = 15;
inline constexpr std::uint8_t kAs4Path = 17;
inline constexpr std::uint8_t kAs4Aggregator = 18;
inline constexpr std::uint8_t kLargeCommunity = 32;

// Attribute Flags (RFC 4271 §4.3).
inline constexpr std::uint8_t kFlagOptional = 0x80;
inline constexpr std::uint8_t kFlagTransitive = 0x40;
inline constexpr std::uint8_t kFlagPartial = 0x20;
inline constexpr std::uint8_t kFlagExtendedLength = 0x10;
}  // namespace attr

// OPEN capability codes (IANA "Capability Codes").
namespace capability {
inline constexpr std::uint8_t kMultiprotocol = 1;     // RFC 4760 §8
inline constexpr std::uint8_t kRouteRefresh = 2;      // RFC 2918 §3
inline constexpr std::uint8_t kGracefulRestart = 64;  // RFC 4724 §3
inline constexpr std::uint8_t kFourOctetAs = 65;      // RFC 6793 §3
}  // namespace capability

// A capability the codec does not interpret, kept as received.
struct RawCapability {
  std::uint8_t code = 0;
  std::vector<std::uint8_t> value;
  bool operator==(const RawCapability&) const = default;
};

// The Graceful Restart capability (RFC 4724 §3). The speaker advertises it receive-only:
// restart time 0, no families, so the peer keeps our routes only as its own policy says.
struct GracefulRestart {
  struct Family {
    AfiSafi family;
    bool forwarding_state_preserved = false;  // the F bit
    bool operator==(const Family&) const = default;
  };
  bool restart_state = false;              // the R bit
  bool notification = false;               // the N bit (RFC 8538)
  std::uint16_t restart_time_seconds = 0;  // 12 bits on the wire
  std::vector<Family> families;
  bool operator==(const GracefulRestart&) const = default;
};

struct Capabilities {
  std::vector<AfiSafi> multiprotocol;               // code 1, one per family
  bool route_refresh = false;                       // code 2
  std::optional<GracefulRestart> graceful_restart;  // code 64
  bool four_octet_as = false;                       // code 65; its value is OpenMessage::asn
  std::vector<RawCapability> other;                 // any other code, in received order
  bool operator==(const Capabilities&) const = default;
};

// OPEN (RFC 4271 §4.2), version 4. The encoder writes My AS as `asn`, or AS_TRANS with
// the 4-octet AS capability when `asn` needs 4 octets (RFC 6793 §4.1); the decoder sets
// `asn` from that capability when present, else from My AS.
struct OpenMessage {
  Asn asn;
  std::uint16_t hold_time_seconds = 90;
  std::uint32_t bgp_identifier = 0;  // host order; 192.0.2.1 is 0xc0000201
  Capabilities capabilities;
  bool operator==(const OpenMessage&) const = default;
};

enum class Origin : std::uint8_t { kIgp = 0, kEgp = 1, kIncomplete = 2 };

struct AsPathSegment {
  enum class Type : std::uint8_t {
    kSet = 1,
    kSequence = 2,
    kConfedSequence = 3,  // RFC 5065
    kConfedSet = 4,
  };
  Type type = Type::kSequence;
  std::vector<Asn> asns;
  bool operator==(const AsPathSegment&) const = default;
};
using AsPath = std::vector<AsPathSegment>;

// MP_REACH_NLRI (RFC 4760 §3) for IPv4 or IPv6 unicast. IPv6 next hops are 16 octets, or
// 32 with the link-local address (RFC 2545 §3).
struct MpReachNlri {
  AfiSafi family = kIpv6Unicast;
  IpAddress next_hop;
  std::optional<IpAddress> link_local_next_hop;
  std::vector<IpPrefix> nlri;
  bool operator==(const MpReachNlri&) const = default;
};

// MP_UNREACH_NLRI (RFC 4760 §4). No prefixes and IPv6 unicast is the End-of-RIB marker
// (RFC 4724 §2).
struct MpUnreachNlri {
  AfiSafi family = kIpv6Unicast;
  std::vector<IpPrefix> withdrawn;
  bool operator==(const MpUnreachNlri&) const = default;
};

// A path attribute the codec does not interpret (unknown optional ones, and known ones a
// speaker only passes along such as ATOMIC_AGGREGATE or AGGREGATOR), kept as received.
// The encoder sets or clears the Extended Length flag from the value's size; the decoder
// clears it.
struct RawAttribute {
  std::uint8_t flags = attr::kFlagOptional | attr::kFlagTransitive;
  std::uint8_t type = 0;
  std::vector<std::uint8_t> value;
  bool operator==(const RawAttribute&) const = default;
};

struct PathAttributes {
  std::optional<Origin> origin;
  // Always the full 4-octet path: on a 2-octet session the encoder writes AS_PATH with
  // AS_TRANS plus AS4_PATH, and the decoder merges them back (RFC 6793 §4.2).
  std::optional<AsPath> as_path;
  std::optional<IpAddress> next_hop;  // NEXT_HOP, IPv4
  std::optional<std::uint32_t> multi_exit_disc;
  std::optional<std::uint32_t> local_pref;
  std::vector<StandardCommunity> communities;     // empty: attribute absent
  std::vector<LargeCommunity> large_communities;  // empty: attribute absent
  std::optional<MpReachNlri> mp_reach;
  std::optional<MpUnreachNlri> mp_unreach;
  std::vector<RawAttribute> other;
  bool operator==(const PathAttributes&) const = default;
};

// How the receiver handles one malformed attribute (RFC 7606 §2).
enum class AttributeAction : std::uint8_t {
  kTreatAsWithdraw,   // every route in the UPDATE is withdrawn; the session stays up
  kAttributeDiscard,  // the attribute is dropped; the routes stand
};

// A malformed attribute the decoder handled without a session reset. `subcode` is the
// UPDATE Message Error subcode RFC 4271 §6.3 would have sent, for logs.
struct AttributeError {
  AttributeAction action = AttributeAction::kTreatAsWithdraw;
  std::uint8_t type = 0;
  std::uint8_t subcode = 0;
  std::string message;
  bool operator==(const AttributeError&) const = default;
};

// UPDATE (RFC 4271 §4.3). `withdrawn` and `nlri` are IPv4; IPv6 routes travel in the
// MP_REACH_NLRI / MP_UNREACH_NLRI attributes.
struct UpdateMessage {
  std::vector<IpPrefix> withdrawn;
  PathAttributes attributes;
  std::vector<IpPrefix> nlri;
  // Set by the decoder only; the encoder ignores it.
  std::vector<AttributeError> attribute_errors;
  bool operator==(const UpdateMessage&) const = default;

  // True when a decoded error requires RFC 7606 "treat-as-withdraw": the receiver must
  // treat `nlri` and `attributes.mp_reach->nlri` as withdrawn.
  bool TreatAsWithdraw() const;
  // The family whose End-of-RIB marker (RFC 4724 §2) this is, if it is one: an UPDATE
  // with nothing in it (IPv4), or only an empty MP_UNREACH_NLRI; never one whose
  // attributes were malformed (they may have hidden routes).
  std::optional<AfiSafi> EndOfRibFamily() const;
};

// NOTIFICATION (RFC 4271 §4.5).
struct NotificationMessage {
  std::uint8_t code = 0;
  std::uint8_t subcode = 0;
  std::vector<std::uint8_t> data;
  bool operator==(const NotificationMessage&) const = default;
};

struct KeepaliveMessage {
  bool operator==(const KeepaliveMessage&) const = default;
};

// ROUTE-REFRESH (RFC 2918 §3); `subtype` is the reserved octet (RFC 7313 §3).
struct RouteRefreshMessage {
  AfiSafi family = kIpv4Unicast;
  std::uint8_t subtype = 0;
  bool operator==(const RouteRefreshMessage&) const = default;
};

using Message = std::variant<OpenMessage, UpdateMessage, NotificationMessage, KeepaliveMessage,
                             RouteRefreshMessage>;

// Options negotiated for a session that change the encoding.
struct CodecOptions {
  // Both sides advertised the 4-octet AS capability (RFC 6793 §4.1): AS_PATH carries
  // 4-octet numbers and AGGREGATOR 8 octets.
  bool four_octet_as = true;
};

// Why a received message was rejected: the NOTIFICATION to send before closing the
// session (RFC 4271 §6), and a human-readable reason for logs.
struct DecodeError {
  NotificationMessage notification;
  std::string message;
};

// Why a message could not be encoded (e.g. it would exceed 4096 octets).
struct EncodeError {
  std::string message;
};

}  // namespace bgpcomm::speaker
