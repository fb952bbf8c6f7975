#include "speaker/bgp_decoder.h"

#include <algorithm>
#include <bitset>
#include <string>
#include <utility>
#include <vector>

#include "speaker/big_endian.h"

namespace bgpcomm::speaker {
namespace {

using Span = std::span<const std::uint8_t>;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kBgpVersion = 4;
constexpr std::uint8_t kCapabilitiesParameter = 2;  // RFC 5492 §4
constexpr std::uint8_t kExtendedParameters = 255;   // RFC 9072 §2
constexpr std::size_t kMinOpenSize = 29;
constexpr std::size_t kMinUpdateSize = 23;
constexpr std::size_t kMinNotificationSize = 21;
constexpr std::size_t kRouteRefreshSize = 23;

std::unexpected<DecodeError> Reject(std::uint8_t code, std::uint8_t subcode, Bytes data,
                                    std::string message) {
  return std::unexpected(DecodeError{{code, subcode, std::move(data)}, std::move(message)});
}

std::unexpected<DecodeError> RejectLength(Span message, std::string reason) {
  // RFC 4271 §6.1: the Data field holds the erroneous Length field.
  Bytes data;
  if (message.size() >= kMarkerSize + 2) data.assign(message.begin() + 16, message.begin() + 18);
  return Reject(error::kMessageHeader, error::kBadMessageLength, std::move(data),
                std::move(reason));
}

std::string AttributeName(std::uint8_t type) {
  switch (type) {
    case attr::kOrigin:
      return "ORIGIN";
    case attr::kAsPath:
      return "AS_PATH";
    case attr::kNextHop:
      return "NEXT_HOP";
    case attr::kMultiExitDisc:
      return "MULTI_EXIT_DISC";
    case attr::kLocalPref:
      return "LOCAL_PREF";
    case attr::kAtomicAggregate:
      return "ATOMIC_AGGREGATE";
    case attr::kAggregator:
      return "AGGREGATOR";
    case attr::kCommunities:
      return "COMMUNITIES";
    case attr::kMpReachNlri:
      return "MP_REACH_NLRI";
    case attr::kMpUnreachNlri:
      return "MP_UNREACH_NLRI";
    case attr::kAs4Path:
      return "AS4_PATH";
    case attr::kAs4Aggregator:
      return "AS4_AGGREGATOR";
    case attr::kLargeCommunity:
      return "LARGE_COMMUNITY";
    default:
      return "attribute " + std::to_string(type);
  }
}

// The Optional and Transitive flags each known attribute must carry (RFC 4271 §5,
// RFC 4760, RFC 6793, RFC 8092); nullopt for types the codec does not know.
std::optional<std::uint8_t> ExpectedFlags(std::uint8_t type) {
  constexpr std::uint8_t kWellKnown = attr::kFlagTransitive;
  constexpr std::uint8_t kOptional = attr::kFlagOptional;
  constexpr std::uint8_t kOptionalTransitive = attr::kFlagOptional | attr::kFlagTransitive;
  switch (type) {
    case attr::kOrigin:
    case attr::kAsPath:
    case attr::kNextHop:
    case attr::kLocalPref:
    case attr::kAtomicAggregate:
      return kWellKnown;
    case attr::kMultiExitDisc:
    case attr::kMpReachNlri:
    case attr::kMpUnreachNlri:
      return kOptional;
    case attr::kAggregator:
    case attr::kCommunities:
    case attr::kAs4Path:
    case attr::kAs4Aggregator:
    case attr::kLargeCommunity:
      return kOptionalTransitive;
    default:
      return std::nullopt;
  }
}

// Appends the prefixes of `field` (RFC 4271 §4.3 encoding) to `out`; host bits past each
// length are cleared. Returns a reason when the field is malformed.
std::optional<std::string> ParsePrefixes(Span field, Afi afi, std::vector<IpPrefix>& out) {
  const unsigned max_length = afi == Afi::kIpv6 ? 128 : 32;
  be::Reader reader(field);
  while (!reader.empty()) {
    const std::uint8_t length = *reader.ReadU8();
    if (length > max_length) {
      return "prefix length " + std::to_string(length) + " exceeds " + std::to_string(max_length);
    }
    auto octets = reader.ReadBytes((std::size_t{length} + 7) / 8);
    if (!octets) {
      return "prefix of length " + std::to_string(length) + " needs " +
             std::to_string((length + 7) / 8) + " octets but " +
             std::to_string(reader.remaining()) + " remain";
    }
    IpAddress address{afi, {}};
    std::copy(octets->begin(), octets->end(), address.bytes.begin());
    out.push_back(*IpPrefix::Make(address, length));
  }
  return std::nullopt;
}

// AS_PATH / AS4_PATH segments (RFC 4271 §4.3, RFC 6793 §3) with `asn_size`-octet numbers.
std::expected<AsPath, std::string> ParseAsPath(Span value, std::size_t asn_size) {
  AsPath path;
  be::Reader reader(value);
  while (!reader.empty()) {
    auto type = reader.ReadU8();
    auto count = reader.ReadU8();
    if (!type || !count) return std::unexpected("truncated segment header");
    if (*type < 1 || *type > 4) {
      return std::unexpected("segment type " + std::to_string(*type) + " is not 1..4");
    }
    if (*count == 0) return std::unexpected("empty segment");  // RFC 7606 §7.2
    if (reader.remaining() < std::size_t{*count} * asn_size) {
      return std::unexpected("segment of " + std::to_string(*count) + " numbers overruns the " +
                             std::to_string(value.size()) + "-octet attribute");
    }
    AsPathSegment segment{static_cast<AsPathSegment::Type>(*type), {}};
    for (int i = 0; i < *count; ++i) {
      segment.asns.emplace_back(asn_size == 4 ? *reader.ReadU32() : *reader.ReadU16());
    }
    path.push_back(std::move(segment));
  }
  return path;
}

// RFC 6793 §4.2.3 path length: an AS_SET counts 1, confederation segments 0.
std::size_t PathLength(const AsPath& path) {
  std::size_t length = 0;
  for (const AsPathSegment& s : path) {
    if (s.type == AsPathSegment::Type::kSequence) length += s.asns.size();
    if (s.type == AsPathSegment::Type::kSet) length += 1;
  }
  return length;
}

// RFC 6793 §4.2.3: the leading numbers of AS_PATH that AS4_PATH does not cover, followed
// by AS4_PATH; AS_PATH alone when AS4_PATH is longer.
AsPath MergeAs4Path(const AsPath& as_path, const AsPath& as4_path) {
  const std::size_t as_length = PathLength(as_path);
  const std::size_t as4_length = PathLength(as4_path);
  if (as_length < as4_length) return as_path;
  std::size_t needed = as_length - as4_length;
  AsPath merged;
  for (const AsPathSegment& s : as_path) {
    if (needed == 0) break;
    if (s.type == AsPathSegment::Type::kSequence) {
      const std::size_t take = std::min(needed, s.asns.size());
      merged.push_back({s.type, {s.asns.begin(), s.asns.begin() + static_cast<long>(take)}});
      needed -= take;
    } else {
      merged.push_back(s);
      if (s.type == AsPathSegment::Type::kSet) needed -= 1;
    }
  }
  merged.insert(merged.end(), as4_path.begin(), as4_path.end());
  return merged;
}

bool IsKnownUnicast(AfiSafi family) { return family == kIpv4Unicast || family == kIpv6Unicast; }

// MP_REACH_NLRI (RFC 4760 §3); nullopt result for a family the codec does not decode.
std::expected<std::optional<MpReachNlri>, std::string> ParseMpReach(Span value) {
  be::Reader reader(value);
  auto afi = reader.ReadU16();
  auto safi = reader.ReadU8();
  auto next_hop_length = reader.ReadU8();
  if (!afi || !safi || !next_hop_length) return std::unexpected("shorter than 5 octets");
  MpReachNlri reach;
  reach.family = {static_cast<Afi>(*afi), static_cast<Safi>(*safi)};
  auto next_hop = reader.ReadBytes(*next_hop_length);
  if (!next_hop) {
    return std::unexpected("next hop length " + std::to_string(*next_hop_length) +
                           " overruns the attribute");
  }
  if (!reader.ReadU8()) return std::unexpected("reserved octet missing");
  if (!IsKnownUnicast(reach.family)) return std::optional<MpReachNlri>();
  const std::size_t address_size = reach.family.afi == Afi::kIpv6 ? 16 : 4;
  if (next_hop->size() != address_size &&
      !(reach.family.afi == Afi::kIpv6 && next_hop->size() == 32)) {
    return std::unexpected("next hop length " + std::to_string(next_hop->size()) +
                           " is invalid for AFI " + std::to_string(*afi));
  }
  reach.next_hop.afi = reach.family.afi;
  std::copy_n(next_hop->begin(), address_size, reach.next_hop.bytes.begin());
  if (next_hop->size() == 32) {
    IpAddress link_local{Afi::kIpv6, {}};
    std::copy_n(next_hop->begin() + 16, 16, link_local.bytes.begin());
    reach.link_local_next_hop = link_local;
  }
  if (auto bad = ParsePrefixes(reader.rest(), reach.family.afi, reach.nlri)) {
    return std::unexpected("NLRI: " + *bad);
  }
  return std::optional<MpReachNlri>(std::move(reach));
}

// MP_UNREACH_NLRI (RFC 4760 §4); nullopt result for a family the codec does not decode.
std::expected<std::optional<MpUnreachNlri>, std::string> ParseMpUnreach(Span value) {
  be::Reader reader(value);
  auto afi = reader.ReadU16();
  auto safi = reader.ReadU8();
  if (!afi || !safi) return std::unexpected("shorter than 3 octets");
  MpUnreachNlri unreach;
  unreach.family = {static_cast<Afi>(*afi), static_cast<Safi>(*safi)};
  if (!IsKnownUnicast(unreach.family)) return std::optional<MpUnreachNlri>();
  if (auto bad = ParsePrefixes(reader.rest(), unreach.family.afi, unreach.withdrawn)) {
    return std::unexpected("withdrawn routes: " + *bad);
  }
  return std::optional<MpUnreachNlri>(std::move(unreach));
}

class AttributeParser {
 public:
  AttributeParser(const CodecOptions& options, UpdateMessage& update)
      : options_(options), update_(update) {}

  // Parses the path attributes field into update_.attributes. Session-reset errors are
  // returned; RFC 7606 outcomes are recorded in update_.attribute_errors.
  std::expected<void, DecodeError> Parse(Span field) {
    be::Reader reader(field);
    while (!reader.empty()) {
      const std::size_t start = reader.offset();
      // RFC 7606 §4: an attribute that overruns the field is treat-as-withdraw; the Total
      // Path Attribute Length still locates the NLRI.
      const std::size_t left = reader.remaining();
      auto flags = reader.ReadU8();
      auto type = reader.ReadU8();
      std::optional<std::size_t> length;
      if (flags && type) {
        if (*flags & attr::kFlagExtendedLength) {
          length = reader.ReadU16();
        } else {
          length = reader.ReadU8();
        }
      }
      if (!length) {
        TreatAsWithdraw(type.value_or(0), error::kMalformedAttributeList,
                        std::to_string(left) +
                            " octets left in the path attributes are too few for an attribute");
        break;
      }
      auto value = reader.ReadBytes(*length);
      if (!value) {
        TreatAsWithdraw(*type, error::kAttributeLengthError,
                        AttributeName(*type) + " length " + std::to_string(*length) +
                            " overruns the path attributes (" + std::to_string(reader.remaining()) +
                            " octets left)");
        break;
      }
      const Span whole = field.subspan(start, reader.offset() - start);
      if (auto ok = ParseOne(*flags, *type, *value, whole); !ok) return ok;
    }
    if (as4_path_ && update_.attributes.as_path) {
      update_.attributes.as_path = MergeAs4Path(*update_.attributes.as_path, *as4_path_);
    }
    return {};
  }

  bool Seen(std::uint8_t type) const { return seen_.test(type); }

 private:
  void TreatAsWithdraw(std::uint8_t type, std::uint8_t subcode, std::string message) {
    update_.attribute_errors.push_back(
        {AttributeAction::kTreatAsWithdraw, type, subcode, std::move(message)});
  }
  void Discard(std::uint8_t type, std::uint8_t subcode, std::string message) {
    update_.attribute_errors.push_back(
        {AttributeAction::kAttributeDiscard, type, subcode, std::move(message)});
  }
  static std::string LengthMessage(std::uint8_t type, std::size_t length, const char* want) {
    return AttributeName(type) + " length " + std::to_string(length) + " is not " + want;
  }

  std::expected<void, DecodeError> ParseOne(std::uint8_t wire_flags, std::uint8_t type, Span value,
                                            Span whole) {
    // Extended Length only describes the wire form; the encoder recomputes it.
    const std::uint8_t flags = wire_flags & ~attr::kFlagExtendedLength;
    const bool is_mp = type == attr::kMpReachNlri || type == attr::kMpUnreachNlri;
    if (seen_.test(type)) {
      if (is_mp) {  // RFC 7606 §3 g
        return Reject(error::kUpdateMessage, error::kMalformedAttributeList, {},
                      AttributeName(type) + " appears more than once");
      }
      Discard(type, error::kMalformedAttributeList,
              "duplicate " + AttributeName(type) + " ignored");
      return {};
    }
    seen_.set(type);

    const auto expected_flags = ExpectedFlags(type);
    if (!expected_flags) {
      if (!(flags & attr::kFlagOptional)) {  // RFC 4271 §6.3
        return Reject(error::kUpdateMessage, error::kUnrecognizedWellKnownAttribute,
                      Bytes(whole.begin(), whole.end()),
                      "unrecognized well-known attribute " + std::to_string(type));
      }
      update_.attributes.other.push_back({flags, type, Bytes(value.begin(), value.end())});
      return {};
    }
    if (type == attr::kAs4Path && options_.four_octet_as) return {};  // RFC 6793 §6
    if (type == attr::kAs4Aggregator && options_.four_octet_as) return {};
    constexpr std::uint8_t kKindFlags = attr::kFlagOptional | attr::kFlagTransitive;
    if ((flags & kKindFlags) != *expected_flags) {
      std::string message =
          AttributeName(type) + " flags 0x" + Hex(wire_flags) + " conflict with its type";
      if (is_mp) {  // RFC 7606 §7.11
        return Reject(error::kUpdateMessage, error::kAttributeFlagsError,
                      Bytes(whole.begin(), whole.end()), std::move(message));
      }
      TreatAsWithdraw(type, error::kAttributeFlagsError, std::move(message));  // §3 c
      return {};
    }

    PathAttributes& a = update_.attributes;
    be::Reader reader(value);
    switch (type) {
      case attr::kOrigin:  // RFC 7606 §7.1
        if (value.size() != 1) {
          TreatAsWithdraw(type, error::kAttributeLengthError,
                          LengthMessage(type, value.size(), "1"));
        } else if (value[0] > 2) {
          TreatAsWithdraw(type, error::kInvalidOriginAttribute,
                          "ORIGIN value " + std::to_string(value[0]) + " is not 0..2");
        } else {
          a.origin = static_cast<Origin>(value[0]);
        }
        return {};
      case attr::kAsPath: {  // RFC 7606 §7.2
        auto path = ParseAsPath(value, options_.four_octet_as ? 4 : 2);
        if (!path) {
          TreatAsWithdraw(type, error::kMalformedAsPath, "AS_PATH: " + path.error());
        } else {
          a.as_path = std::move(*path);
        }
        return {};
      }
      case attr::kNextHop:  // RFC 7606 §7.3
        if (value.size() != 4) {
          TreatAsWithdraw(type, error::kAttributeLengthError,
                          LengthMessage(type, value.size(), "4"));
        } else {
          a.next_hop = IpAddress::V4(value[0], value[1], value[2], value[3]);
        }
        return {};
      case attr::kMultiExitDisc:  // RFC 7606 §7.4
        if (value.size() != 4) {
          TreatAsWithdraw(type, error::kAttributeLengthError,
                          LengthMessage(type, value.size(), "4"));
        } else {
          a.multi_exit_disc = reader.ReadU32();
        }
        return {};
      case attr::kLocalPref:  // RFC 7606 §7.5
        if (value.size() != 4) {
          TreatAsWithdraw(type, error::kAttributeLengthError,
                          LengthMessage(type, value.size(), "4"));
        } else {
          a.local_pref = reader.ReadU32();
        }
        return {};
      case attr::kAtomicAggregate:  // RFC 7606 §7.6
        if (!value.empty()) {
          Discard(type, error::kAttributeLengthError, LengthMessage(type, value.size(), "0"));
        } else {
          a.other.push_back({flags, type, {}});
        }
        return {};
      case attr::kAggregator: {  // RFC 7606 §7.7
        const std::size_t want = options_.four_octet_as ? 8 : 6;
        if (value.size() != want) {
          Discard(type, error::kAttributeLengthError,
                  LengthMessage(type, value.size(), want == 8 ? "8" : "6"));
        } else {
          a.other.push_back({flags, type, Bytes(value.begin(), value.end())});
        }
        return {};
      }
      case attr::kAs4Aggregator:  // RFC 6793 §6
        if (value.size() != 8) {
          Discard(type, error::kAttributeLengthError, LengthMessage(type, value.size(), "8"));
        } else {
          a.other.push_back({flags, type, Bytes(value.begin(), value.end())});
        }
        return {};
      case attr::kCommunities:  // RFC 7606 §7.8
        if (value.empty() || value.size() % 4 != 0) {
          TreatAsWithdraw(type, error::kAttributeLengthError,
                          LengthMessage(type, value.size(), "a non-zero multiple of 4"));
        } else {
          while (!reader.empty())
            a.communities.push_back(StandardCommunity::FromRaw(*reader.ReadU32()));
        }
        return {};
      case attr::kLargeCommunity:  // RFC 8092 §6
        if (value.empty() || value.size() % 12 != 0) {
          TreatAsWithdraw(type, error::kAttributeLengthError,
                          LengthMessage(type, value.size(), "a non-zero multiple of 12"));
        } else {
          while (!reader.empty()) {
            LargeCommunity c;
            c.global_admin = *reader.ReadU32();
            c.local_data1 = *reader.ReadU32();
            c.local_data2 = *reader.ReadU32();
            a.large_communities.push_back(c);
          }
        }
        return {};
      case attr::kAs4Path: {  // RFC 6793 §6: malformed is attribute-discard
        auto path = ParseAsPath(value, 4);
        if (!path) {
          Discard(type, error::kMalformedAsPath, "AS4_PATH: " + path.error());
          return {};
        }
        for (const AsPathSegment& s : *path) {
          if (s.type == AsPathSegment::Type::kConfedSequence ||
              s.type == AsPathSegment::Type::kConfedSet) {
            Discard(type, error::kMalformedAsPath, "AS4_PATH holds a confederation segment");
            return {};
          }
        }
        as4_path_ = std::move(*path);
        return {};
      }
      case attr::kMpReachNlri: {  // RFC 7606 §7.11: session reset
        auto reach = ParseMpReach(value);
        if (!reach) {
          return Reject(error::kUpdateMessage, error::kOptionalAttributeError,
                        Bytes(whole.begin(), whole.end()), "MP_REACH_NLRI: " + reach.error());
        }
        if (*reach) {
          a.mp_reach = std::move(**reach);
        } else {
          a.other.push_back({flags, type, Bytes(value.begin(), value.end())});
        }
        return {};
      }
      case attr::kMpUnreachNlri: {
        auto unreach = ParseMpUnreach(value);
        if (!unreach) {
          return Reject(error::kUpdateMessage, error::kOptionalAttributeError,
                        Bytes(whole.begin(), whole.end()), "MP_UNREACH_NLRI: " + unreach.error());
        }
        if (*unreach) {
          a.mp_unreach = std::move(**unreach);
        } else {
          a.other.push_back({flags, type, Bytes(value.begin(), value.end())});
        }
        return {};
      }
      default:
        return {};
    }
  }

  static std::string Hex(std::uint8_t v) {
    constexpr char kDigits[] = "0123456789abcdef";
    return {kDigits[v >> 4], kDigits[v & 0xf]};
  }

  const CodecOptions& options_;
  UpdateMessage& update_;
  std::bitset<256> seen_;
  std::optional<AsPath> as4_path_;
};

std::expected<Message, DecodeError> DecodeOpen(Span body) {
  be::Reader reader(body);
  const std::uint8_t version = *reader.ReadU8();
  const std::uint16_t my_as = *reader.ReadU16();
  const std::uint16_t hold_time = *reader.ReadU16();
  const std::uint32_t identifier = *reader.ReadU32();
  const std::uint8_t parameters_length = *reader.ReadU8();
  if (version != kBgpVersion) {  // RFC 4271 §6.2: Data is the largest version we support
    return Reject(error::kOpenMessage, error::kUnsupportedVersionNumber, {0, kBgpVersion},
                  "BGP version " + std::to_string(version) + " is not supported (only 4)");
  }
  // RFC 9072: Non-Ext OP Len 255 and Non-Ext OP Type 255 announce 2-octet lengths.
  bool extended = false;
  std::size_t declared = parameters_length;
  if (parameters_length == 255 && !reader.empty() && reader.rest()[0] == kExtendedParameters) {
    reader.ReadU8();
    auto extended_length = reader.ReadU16();
    if (!extended_length) {
      return Reject(error::kOpenMessage, error::kUnspecific, {},
                    "extended optional parameters length is truncated");
    }
    extended = true;
    declared = *extended_length;
  }
  if (declared != reader.remaining()) {
    return Reject(error::kOpenMessage, error::kUnspecific, {},
                  "optional parameters length " + std::to_string(declared) + " but " +
                      std::to_string(reader.remaining()) + " octets follow");
  }
  if (hold_time == 1 || hold_time == 2) {  // RFC 4271 §6.2
    return Reject(error::kOpenMessage, error::kUnacceptableHoldTime, {},
                  "hold time " + std::to_string(hold_time) + " is neither 0 nor at least 3");
  }
  if (identifier == 0) {  // RFC 6286 §2.2
    return Reject(error::kOpenMessage, error::kBadBgpIdentifier, {}, "BGP identifier is 0");
  }

  OpenMessage open;
  open.hold_time_seconds = hold_time;
  open.bgp_identifier = identifier;
  std::optional<std::uint32_t> four_octet_asn;
  Capabilities& caps = open.capabilities;
  auto malformed = [](std::string what) {
    return Reject(error::kOpenMessage, error::kUnspecific, {}, std::move(what));
  };
  while (!reader.empty()) {
    auto type = reader.ReadU8();
    std::optional<std::size_t> length;
    if (extended) {
      length = reader.ReadU16();
    } else {
      length = reader.ReadU8();
    }
    if (!length) return malformed("optional parameter header is truncated");
    auto parameter = reader.ReadBytes(*length);
    if (!parameter) return malformed("optional parameter overruns the OPEN message");
    if (*type != kCapabilitiesParameter) {
      return Reject(error::kOpenMessage, error::kUnsupportedOptionalParameter, {},
                    "optional parameter type " + std::to_string(*type) + " is not supported");
    }
    be::Reader cap_reader(*parameter);
    while (!cap_reader.empty()) {  // RFC 5492 §4
      auto code = cap_reader.ReadU8();
      auto cap_length = cap_reader.ReadU8();
      if (!cap_length) return malformed("capability header is truncated");
      auto value = cap_reader.ReadBytes(*cap_length);
      if (!value)
        return malformed("capability " + std::to_string(*code) + " overruns its parameter");
      be::Reader v(*value);
      auto bad_length = [&](const char* want) {
        return malformed("capability " + std::to_string(*code) + " length " +
                         std::to_string(value->size()) + " is not " + want);
      };
      switch (*code) {
        case capability::kMultiprotocol: {
          if (value->size() != 4) return bad_length("4");
          const auto afi = *v.ReadU16();
          v.ReadU8();  // Reserved
          const auto safi = *v.ReadU8();
          caps.multiprotocol.push_back({static_cast<Afi>(afi), static_cast<Safi>(safi)});
          break;
        }
        case capability::kRouteRefresh:
          if (!value->empty()) return bad_length("0");
          caps.route_refresh = true;
          break;
        case capability::kGracefulRestart: {
          if (value->size() < 2 || (value->size() - 2) % 4 != 0) {
            return bad_length("2 plus a multiple of 4");
          }
          GracefulRestart gr;
          const auto header = *v.ReadU16();
          gr.restart_state = header & 0x8000;
          gr.notification = header & 0x4000;
          gr.restart_time_seconds = header & 0x0fff;
          while (!v.empty()) {
            GracefulRestart::Family f;
            f.family.afi = static_cast<Afi>(*v.ReadU16());
            f.family.safi = static_cast<Safi>(*v.ReadU8());
            f.forwarding_state_preserved = *v.ReadU8() & 0x80;
            gr.families.push_back(f);
          }
          caps.graceful_restart = std::move(gr);
          break;
        }
        case capability::kFourOctetAs:
          if (value->size() != 4) return bad_length("4");
          four_octet_asn = *v.ReadU32();
          caps.four_octet_as = true;
          break;
        default:
          caps.other.push_back({*code, Bytes(value->begin(), value->end())});
      }
    }
  }
  open.asn = Asn(four_octet_asn.value_or(my_as));
  if (open.asn.value() == 0) {  // RFC 7607 §2
    return Reject(error::kOpenMessage, error::kBadPeerAs, {}, "peer AS is 0");
  }
  return open;
}

std::expected<Message, DecodeError> DecodeUpdate(Span body, const CodecOptions& options) {
  be::Reader reader(body);
  const std::uint16_t withdrawn_length = *reader.ReadU16();
  // RFC 4271 §6.3: the two length fields must fit the message.
  if (reader.remaining() < std::size_t{withdrawn_length} + 2) {
    return Reject(
        error::kUpdateMessage, error::kMalformedAttributeList, {},
        "Withdrawn Routes Length " + std::to_string(withdrawn_length) + " overruns the UPDATE");
  }
  const Span withdrawn_field = *reader.ReadBytes(withdrawn_length);
  const std::uint16_t attributes_length = *reader.ReadU16();
  auto attributes_field = reader.ReadBytes(attributes_length);
  if (!attributes_field) {
    return Reject(error::kUpdateMessage, error::kMalformedAttributeList, {},
                  "Total Path Attribute Length " + std::to_string(attributes_length) +
                      " overruns the UPDATE");
  }
  const Span nlri_field = reader.rest();

  UpdateMessage update;
  if (auto bad = ParsePrefixes(withdrawn_field, Afi::kIpv4, update.withdrawn)) {
    return Reject(error::kUpdateMessage, error::kInvalidNetworkField, {},
                  "withdrawn routes: " + *bad);
  }
  AttributeParser parser(options, update);
  if (auto ok = parser.Parse(*attributes_field); !ok) return std::unexpected(ok.error());
  if (auto bad = ParsePrefixes(nlri_field, Afi::kIpv4, update.nlri)) {  // RFC 7606 §5.3
    return Reject(error::kUpdateMessage, error::kInvalidNetworkField, {}, "NLRI: " + *bad);
  }

  // RFC 7606 §3 d: missing well-known mandatory attributes on an UPDATE that announces.
  // NEXT_HOP is only needed with IPv4 NLRI in the NLRI field (RFC 4760 §3).
  const bool announces = !update.nlri.empty() || update.attributes.mp_reach;
  if (announces && !update.TreatAsWithdraw()) {
    for (std::uint8_t type : {attr::kOrigin, attr::kAsPath, attr::kNextHop}) {
      if (type == attr::kNextHop && update.nlri.empty()) continue;
      if (!parser.Seen(type)) {
        update.attribute_errors.push_back({AttributeAction::kTreatAsWithdraw, type,
                                           error::kMissingWellKnownAttribute,
                                           "missing " + AttributeName(type)});
      }
    }
  }
  return update;
}

std::expected<Message, DecodeError> DecodeNotification(Span body) {
  NotificationMessage notification;
  notification.code = body[0];
  notification.subcode = body[1];
  notification.data.assign(body.begin() + 2, body.end());
  return notification;
}

std::expected<Message, DecodeError> DecodeRouteRefresh(Span body) {
  be::Reader reader(body);
  RouteRefreshMessage refresh;
  refresh.family.afi = static_cast<Afi>(*reader.ReadU16());
  refresh.subtype = *reader.ReadU8();
  refresh.family.safi = static_cast<Safi>(*reader.ReadU8());
  return refresh;
}

}  // namespace

std::expected<std::optional<std::size_t>, DecodeError> FrameLength(Span buffer) {
  if (buffer.size() < kHeaderSize) return std::nullopt;
  if (!std::all_of(buffer.begin(), buffer.begin() + kMarkerSize,
                   [](std::uint8_t b) { return b == 0xff; })) {
    return Reject(error::kMessageHeader, error::kConnectionNotSynchronized, {},
                  "message marker is not all ones");
  }
  const std::uint16_t length = *be::LoadU16(buffer, kMarkerSize);
  if (length < kHeaderSize || length > kMaxMessageSize) {
    return RejectLength(buffer, "message length " + std::to_string(length) + " is not 19..4096");
  }
  return std::optional<std::size_t>(length);
}

std::expected<Message, DecodeError> Decode(Span message, const CodecOptions& options) {
  if (message.size() < kHeaderSize) {
    return RejectLength(message, "message of " + std::to_string(message.size()) +
                                     " octets is shorter than the 19-octet header");
  }
  auto frame = FrameLength(message);
  if (!frame) return std::unexpected(frame.error());
  const std::size_t length = **frame;
  if (length != message.size()) {
    return RejectLength(message, "length field " + std::to_string(length) + " but " +
                                     std::to_string(message.size()) + " octets were given");
  }
  const std::uint8_t type = message[kHeaderSize - 1];
  const Span body = message.subspan(kHeaderSize);
  auto too_short = [&](std::size_t minimum, const char* name) {
    return RejectLength(message, std::string(name) + " length " + std::to_string(length) +
                                     " is below the minimum " + std::to_string(minimum));
  };
  switch (static_cast<MessageType>(type)) {
    case MessageType::kOpen:
      if (length < kMinOpenSize) return too_short(kMinOpenSize, "OPEN");
      return DecodeOpen(body);
    case MessageType::kUpdate:
      if (length < kMinUpdateSize) return too_short(kMinUpdateSize, "UPDATE");
      return DecodeUpdate(body, options);
    case MessageType::kNotification:
      if (length < kMinNotificationSize) return too_short(kMinNotificationSize, "NOTIFICATION");
      return DecodeNotification(body);
    case MessageType::kKeepalive:
      if (length != kHeaderSize) {
        return RejectLength(message, "KEEPALIVE length " + std::to_string(length) + " is not 19");
      }
      return KeepaliveMessage{};
    case MessageType::kRouteRefresh:
      if (length != kRouteRefreshSize) {  // RFC 7313 §5: Data is the whole message
        return Reject(error::kRouteRefreshMessage, error::kInvalidMessageLength,
                      Bytes(message.begin(), message.end()),
                      "ROUTE-REFRESH length " + std::to_string(length) + " is not 23");
      }
      return DecodeRouteRefresh(body);
  }
  return Reject(error::kMessageHeader, error::kBadMessageType, {type},
                "message type " + std::to_string(type) + " is unknown");
}

}  // namespace bgpcomm::speaker
