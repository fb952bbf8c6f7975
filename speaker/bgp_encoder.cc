#include "speaker/bgp_encoder.h"

#include <algorithm>
#include <string>
#include <utility>

#include "speaker/big_endian.h"

namespace bgpcomm::speaker {
namespace {

constexpr std::uint8_t kBgpVersion = 4;
constexpr std::uint8_t kCapabilitiesParameter = 2;  // RFC 5492 §4

std::unexpected<EncodeError> Fail(std::string message) {
  return std::unexpected(EncodeError{std::move(message)});
}

Bytes StartMessage(MessageType type) {
  Bytes out(kMarkerSize, 0xff);
  be::PutU16(out, 0);  // length, filled in by FinishMessage
  be::PutU8(out, static_cast<std::uint8_t>(type));
  return out;
}

std::expected<Bytes, EncodeError> FinishMessage(Bytes out) {
  if (out.size() > kMaxMessageSize) {
    return Fail("message of " + std::to_string(out.size()) + " octets exceeds " +
                std::to_string(kMaxMessageSize));
  }
  be::StoreU16(out, kMarkerSize, static_cast<std::uint16_t>(out.size()));
  return out;
}

// Appends one path attribute (RFC 4271 §4.3): flags, type, a 1-octet length, or a
// 2-octet one with the Extended Length flag when the value exceeds 255 octets.
std::expected<void, EncodeError> AppendAttribute(Bytes& out, std::uint8_t flags, std::uint8_t type,
                                                 std::span<const std::uint8_t> value) {
  if (value.size() > 0xffff) {
    return Fail("attribute " + std::to_string(type) + " value of " + std::to_string(value.size()) +
                " octets exceeds 65535");
  }
  if (value.size() > 0xff) {
    be::PutU8(out, flags | attr::kFlagExtendedLength);
    be::PutU8(out, type);
    be::PutU16(out, static_cast<std::uint16_t>(value.size()));
  } else {
    be::PutU8(out, flags & ~attr::kFlagExtendedLength);
    be::PutU8(out, type);
    be::PutU8(out, static_cast<std::uint8_t>(value.size()));
  }
  be::PutBytes(out, value);
  return {};
}

void AppendAddress(Bytes& out, const IpAddress& address) {
  be::PutBytes(out, std::span(address.bytes).first(address.Size()));
}

std::expected<void, EncodeError> AppendPrefixes(Bytes& out, const std::vector<IpPrefix>& prefixes,
                                                Afi afi, const char* field) {
  for (const IpPrefix& prefix : prefixes) {
    if (prefix.afi() != afi) {
      return Fail(std::string(field) + " holds a prefix of the wrong address family");
    }
    if (prefix.length > (afi == Afi::kIpv6 ? 128 : 32)) {
      return Fail(std::string(field) + " holds a prefix longer than its family allows");
    }
    AppendPrefix(out, prefix);
  }
  return {};
}

// AS_PATH segments (RFC 4271 §4.3, RFC 6793 §3) with 2- or 4-octet numbers; on 2-octet
// encoding every non-mappable number becomes AS_TRANS. Segments longer than 255 numbers
// are split into consecutive segments of the same type.
std::expected<Bytes, EncodeError> EncodeAsPath(const AsPath& path, bool four_octet) {
  Bytes out;
  for (const AsPathSegment& segment : path) {
    if (segment.asns.empty()) return Fail("AS_PATH segment is empty");
    if (segment.asns.size() > 255 && (segment.type == AsPathSegment::Type::kSet ||
                                      segment.type == AsPathSegment::Type::kConfedSet)) {
      return Fail("AS_SET of more than 255 numbers");
    }
    for (std::size_t begin = 0; begin < segment.asns.size(); begin += 255) {
      const std::size_t count = std::min<std::size_t>(255, segment.asns.size() - begin);
      be::PutU8(out, static_cast<std::uint8_t>(segment.type));
      be::PutU8(out, static_cast<std::uint8_t>(count));
      for (std::size_t i = begin; i < begin + count; ++i) {
        const Asn asn = segment.asns[i];
        if (four_octet) {
          be::PutU32(out, asn.value());
        } else {
          be::PutU16(out, static_cast<std::uint16_t>(asn.IsFourOctetOnly() ? kAsTrans.value()
                                                                           : asn.value()));
        }
      }
    }
  }
  return out;
}

bool NeedsAs4Path(const AsPath& path) {
  for (const AsPathSegment& segment : path) {
    for (Asn asn : segment.asns) {
      if (asn.IsFourOctetOnly()) return true;
    }
  }
  return false;
}

std::expected<Bytes, EncodeError> EncodeMpReach(const MpReachNlri& reach) {
  Bytes out;
  be::PutU16(out, static_cast<std::uint16_t>(reach.family.afi));
  be::PutU8(out, static_cast<std::uint8_t>(reach.family.safi));
  if (reach.next_hop.afi != reach.family.afi) {
    return Fail("MP_REACH_NLRI next hop family differs from the attribute's AFI");
  }
  if (reach.link_local_next_hop &&
      (reach.family.afi != Afi::kIpv6 || reach.link_local_next_hop->afi != Afi::kIpv6)) {
    return Fail("MP_REACH_NLRI link-local next hop is only valid for IPv6");
  }
  const std::size_t next_hop_size =
      reach.next_hop.Size() + (reach.link_local_next_hop ? reach.link_local_next_hop->Size() : 0);
  be::PutU8(out, static_cast<std::uint8_t>(next_hop_size));
  AppendAddress(out, reach.next_hop);
  if (reach.link_local_next_hop) AppendAddress(out, *reach.link_local_next_hop);
  be::PutU8(out, 0);  // Reserved (RFC 4760 §3)
  if (auto ok = AppendPrefixes(out, reach.nlri, reach.family.afi, "MP_REACH_NLRI"); !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

std::expected<Bytes, EncodeError> EncodeMpUnreach(const MpUnreachNlri& unreach) {
  Bytes out;
  be::PutU16(out, static_cast<std::uint16_t>(unreach.family.afi));
  be::PutU8(out, static_cast<std::uint8_t>(unreach.family.safi));
  if (auto ok = AppendPrefixes(out, unreach.withdrawn, unreach.family.afi, "MP_UNREACH_NLRI");
      !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

struct PendingAttribute {
  int order;  // MP attributes first (RFC 7606 §5.1), then by type code
  std::uint8_t flags;
  std::uint8_t type;
  Bytes value;
};

}  // namespace

void AppendPrefix(Bytes& out, const IpPrefix& prefix) {
  be::PutU8(out, prefix.length);
  const std::size_t octets = (std::size_t{prefix.length} + 7) / 8;
  be::PutBytes(out, std::span(prefix.address.bytes).first(std::min<std::size_t>(octets, 16)));
}

std::expected<Bytes, EncodeError> EncodePathAttributes(const PathAttributes& a,
                                                       const CodecOptions& options) {
  constexpr std::uint8_t kWellKnown = attr::kFlagTransitive;
  constexpr std::uint8_t kOptionalNonTransitive = attr::kFlagOptional;
  constexpr std::uint8_t kOptionalTransitive = attr::kFlagOptional | attr::kFlagTransitive;
  std::vector<PendingAttribute> pending;
  auto add = [&](std::uint8_t flags, std::uint8_t type, Bytes value) {
    const int order = type == attr::kMpReachNlri || type == attr::kMpUnreachNlri ? -1 : type;
    pending.push_back({order, flags, type, std::move(value)});
  };

  if (a.origin) add(kWellKnown, attr::kOrigin, {static_cast<std::uint8_t>(*a.origin)});
  if (a.as_path) {
    auto path = EncodeAsPath(*a.as_path, options.four_octet_as);
    if (!path) return std::unexpected(path.error());
    add(kWellKnown, attr::kAsPath, std::move(*path));
    // RFC 6793 §4.2.2: a 2-octet session carries the true path in AS4_PATH, without
    // confederation segments.
    if (!options.four_octet_as && NeedsAs4Path(*a.as_path)) {
      AsPath as4;
      for (const AsPathSegment& segment : *a.as_path) {
        if (segment.type == AsPathSegment::Type::kSet ||
            segment.type == AsPathSegment::Type::kSequence) {
          as4.push_back(segment);
        }
      }
      auto as4_value = EncodeAsPath(as4, /*four_octet=*/true);
      if (!as4_value) return std::unexpected(as4_value.error());
      add(kOptionalTransitive, attr::kAs4Path, std::move(*as4_value));
    }
  }
  if (a.next_hop) {
    if (a.next_hop->afi != Afi::kIpv4) return Fail("NEXT_HOP must be an IPv4 address");
    Bytes value;
    AppendAddress(value, *a.next_hop);
    add(kWellKnown, attr::kNextHop, std::move(value));
  }
  if (a.multi_exit_disc) {
    Bytes value;
    be::PutU32(value, *a.multi_exit_disc);
    add(kOptionalNonTransitive, attr::kMultiExitDisc, std::move(value));
  }
  if (a.local_pref) {
    Bytes value;
    be::PutU32(value, *a.local_pref);
    add(kWellKnown, attr::kLocalPref, std::move(value));
  }
  if (!a.communities.empty()) {
    Bytes value;
    for (StandardCommunity c : a.communities) be::PutU32(value, c.Raw());
    add(kOptionalTransitive, attr::kCommunities, std::move(value));
  }
  if (!a.large_communities.empty()) {
    Bytes value;
    for (const LargeCommunity& c : a.large_communities) {
      be::PutU32(value, c.global_admin);
      be::PutU32(value, c.local_data1);
      be::PutU32(value, c.local_data2);
    }
    add(kOptionalTransitive, attr::kLargeCommunity, std::move(value));
  }
  if (a.mp_reach) {
    auto value = EncodeMpReach(*a.mp_reach);
    if (!value) return std::unexpected(value.error());
    add(kOptionalNonTransitive, attr::kMpReachNlri, std::move(*value));
  }
  if (a.mp_unreach) {
    auto value = EncodeMpUnreach(*a.mp_unreach);
    if (!value) return std::unexpected(value.error());
    add(kOptionalNonTransitive, attr::kMpUnreachNlri, std::move(*value));
  }
  for (const RawAttribute& raw : a.other) add(raw.flags, raw.type, raw.value);

  std::stable_sort(pending.begin(), pending.end(),
                   [](const auto& x, const auto& y) { return x.order < y.order; });
  Bytes out;
  for (const PendingAttribute& p : pending) {
    if (auto ok = AppendAttribute(out, p.flags, p.type, p.value); !ok) {
      return std::unexpected(ok.error());
    }
  }
  return out;
}

std::expected<Bytes, EncodeError> EncodeOpen(const OpenMessage& open) {
  Bytes caps;
  auto add_cap = [&caps](std::uint8_t code, std::span<const std::uint8_t> value) {
    be::PutU8(caps, code);
    be::PutU8(caps, static_cast<std::uint8_t>(value.size()));
    be::PutBytes(caps, value);
  };
  const Capabilities& c = open.capabilities;
  for (AfiSafi family : c.multiprotocol) {
    Bytes value;
    be::PutU16(value, static_cast<std::uint16_t>(family.afi));
    be::PutU8(value, 0);  // Reserved
    be::PutU8(value, static_cast<std::uint8_t>(family.safi));
    add_cap(capability::kMultiprotocol, value);
  }
  if (c.route_refresh) add_cap(capability::kRouteRefresh, {});
  if (c.graceful_restart) {
    const GracefulRestart& gr = *c.graceful_restart;
    if (gr.restart_time_seconds > 0x0fff) return Fail("graceful restart time exceeds 4095");
    if (gr.families.size() > 63) return Fail("graceful restart lists too many families");
    Bytes value;
    be::PutU16(value, static_cast<std::uint16_t>((gr.restart_state ? 0x8000 : 0) |
                                                 (gr.notification ? 0x4000 : 0) |
                                                 gr.restart_time_seconds));
    for (const GracefulRestart::Family& f : gr.families) {
      be::PutU16(value, static_cast<std::uint16_t>(f.family.afi));
      be::PutU8(value, static_cast<std::uint8_t>(f.family.safi));
      be::PutU8(value, f.forwarding_state_preserved ? 0x80 : 0);
    }
    add_cap(capability::kGracefulRestart, value);
  }
  if (c.four_octet_as || open.asn.IsFourOctetOnly()) {
    Bytes value;
    be::PutU32(value, open.asn.value());
    add_cap(capability::kFourOctetAs, value);
  }
  for (const RawCapability& raw : c.other) {
    if (raw.value.size() > 255) return Fail("capability value exceeds 255 octets");
    add_cap(raw.code, raw.value);
  }
  // All capabilities in one Capabilities optional parameter (RFC 5492 §4).
  if (caps.size() > 253) return Fail("capabilities exceed the 255-octet optional parameters");

  Bytes out = StartMessage(MessageType::kOpen);
  be::PutU8(out, kBgpVersion);
  be::PutU16(out, static_cast<std::uint16_t>(open.asn.IsFourOctetOnly() ? kAsTrans.value()
                                                                        : open.asn.value()));
  be::PutU16(out, open.hold_time_seconds);
  be::PutU32(out, open.bgp_identifier);
  if (caps.empty()) {
    be::PutU8(out, 0);
  } else {
    be::PutU8(out, static_cast<std::uint8_t>(caps.size() + 2));
    be::PutU8(out, kCapabilitiesParameter);
    be::PutU8(out, static_cast<std::uint8_t>(caps.size()));
    be::PutBytes(out, caps);
  }
  return FinishMessage(std::move(out));
}

std::expected<Bytes, EncodeError> EncodeUpdate(const UpdateMessage& update,
                                               const CodecOptions& options) {
  Bytes withdrawn;
  if (auto ok = AppendPrefixes(withdrawn, update.withdrawn, Afi::kIpv4, "withdrawn routes"); !ok) {
    return std::unexpected(ok.error());
  }
  auto attributes = EncodePathAttributes(update.attributes, options);
  if (!attributes) return std::unexpected(attributes.error());
  Bytes nlri;
  if (auto ok = AppendPrefixes(nlri, update.nlri, Afi::kIpv4, "NLRI"); !ok) {
    return std::unexpected(ok.error());
  }
  if (withdrawn.size() > kMaxMessageSize || attributes->size() > kMaxMessageSize) {
    return Fail("UPDATE exceeds " + std::to_string(kMaxMessageSize) + " octets");
  }
  Bytes out = StartMessage(MessageType::kUpdate);
  be::PutU16(out, static_cast<std::uint16_t>(withdrawn.size()));
  be::PutBytes(out, withdrawn);
  be::PutU16(out, static_cast<std::uint16_t>(attributes->size()));
  be::PutBytes(out, *attributes);
  be::PutBytes(out, nlri);
  return FinishMessage(std::move(out));
}

Bytes EncodeKeepalive() {
  Bytes out = StartMessage(MessageType::kKeepalive);
  be::StoreU16(out, kMarkerSize, static_cast<std::uint16_t>(out.size()));
  return out;
}

std::expected<Bytes, EncodeError> EncodeNotification(const NotificationMessage& notification) {
  Bytes out = StartMessage(MessageType::kNotification);
  be::PutU8(out, notification.code);
  be::PutU8(out, notification.subcode);
  be::PutBytes(out, notification.data);
  return FinishMessage(std::move(out));
}

Bytes EncodeRouteRefresh(const RouteRefreshMessage& refresh) {
  Bytes out = StartMessage(MessageType::kRouteRefresh);
  be::PutU16(out, static_cast<std::uint16_t>(refresh.family.afi));
  be::PutU8(out, refresh.subtype);
  be::PutU8(out, static_cast<std::uint8_t>(refresh.family.safi));
  be::StoreU16(out, kMarkerSize, static_cast<std::uint16_t>(out.size()));
  return out;
}

std::expected<Bytes, EncodeError> Encode(const Message& message, const CodecOptions& options) {
  struct Visitor {
    const CodecOptions& options;
    std::expected<Bytes, EncodeError> operator()(const OpenMessage& m) { return EncodeOpen(m); }
    std::expected<Bytes, EncodeError> operator()(const UpdateMessage& m) {
      return EncodeUpdate(m, options);
    }
    std::expected<Bytes, EncodeError> operator()(const NotificationMessage& m) {
      return EncodeNotification(m);
    }
    std::expected<Bytes, EncodeError> operator()(const KeepaliveMessage&) {
      return EncodeKeepalive();
    }
    std::expected<Bytes, EncodeError> operator()(const RouteRefreshMessage& m) {
      return EncodeRouteRefresh(m);
    }
  };
  return std::visit(Visitor{options}, message);
}

}  // namespace bgpcomm::speaker
