#include "speaker/update_packer.h"

#include <utility>

namespace bgpcomm::speaker {
namespace {

constexpr std::size_t kUpdateFixedSize = kHeaderSize + 2 + 2;  // + both length fields
constexpr std::size_t kAttributeHeaderSize = 3;                // flags, type, 1-octet length
constexpr std::size_t kExtendedAttributeHeaderSize = 4;        // with a 2-octet length

std::size_t AttributeSize(std::size_t value_size) {
  return value_size + (value_size > 255 ? kExtendedAttributeHeaderSize : kAttributeHeaderSize);
}

std::unexpected<EncodeError> Fail(std::string message) {
  return std::unexpected(EncodeError{std::move(message)});
}

// Splits `prefixes` into consecutive runs whose total encoded size, added to the message
// size given by `size_of(prefix_octets)`, stays within 4096 octets.
template <typename SizeOf>
std::expected<std::vector<std::vector<IpPrefix>>, EncodeError> Split(
    const std::vector<IpPrefix>& prefixes, SizeOf size_of) {
  std::vector<std::vector<IpPrefix>> batches;
  std::vector<IpPrefix> batch;
  std::size_t octets = 0;
  for (const IpPrefix& prefix : prefixes) {
    const std::size_t size = prefix.EncodedSize();
    if (size_of(octets + size) > kMaxMessageSize) {
      if (batch.empty()) return Fail("path attributes leave no room for a prefix in 4096 octets");
      batches.push_back(std::move(batch));
      batch.clear();
      octets = 0;
    }
    if (size_of(size) > kMaxMessageSize) {
      return Fail("path attributes leave no room for a prefix in 4096 octets");
    }
    batch.push_back(prefix);
    octets += size;
  }
  if (!batch.empty()) batches.push_back(std::move(batch));
  return batches;
}

std::expected<void, EncodeError> AppendEncoded(std::vector<Bytes>& out, const UpdateMessage& update,
                                               const CodecOptions& options) {
  auto bytes = EncodeUpdate(update, options);
  if (!bytes) return std::unexpected(bytes.error());
  out.push_back(std::move(*bytes));
  return {};
}

void Partition(std::span<const IpPrefix> prefixes, std::vector<IpPrefix>& v4,
               std::vector<IpPrefix>& v6) {
  for (const IpPrefix& p : prefixes) (p.afi() == Afi::kIpv6 ? v6 : v4).push_back(p);
}

}  // namespace

std::expected<std::vector<Bytes>, EncodeError> PackAnnouncements(const PathAttributes& attributes,
                                                                 const NextHops& next_hops,
                                                                 std::span<const IpPrefix> prefixes,
                                                                 const CodecOptions& options) {
  std::vector<IpPrefix> v4, v6;
  Partition(prefixes, v4, v6);
  std::vector<Bytes> out;
  PathAttributes shared = attributes;
  shared.next_hop.reset();
  shared.mp_reach.reset();
  shared.mp_unreach.reset();

  if (!v4.empty()) {
    if (!next_hops.ipv4) return Fail("IPv4 prefixes need an IPv4 next hop");
    PathAttributes with_next_hop = shared;
    with_next_hop.next_hop = next_hops.ipv4;
    auto encoded = EncodePathAttributes(with_next_hop, options);
    if (!encoded) return std::unexpected(encoded.error());
    const std::size_t fixed = kUpdateFixedSize + encoded->size();
    auto batches = Split(v4, [fixed](std::size_t nlri) { return fixed + nlri; });
    if (!batches) return std::unexpected(batches.error());
    for (auto& batch : *batches) {
      UpdateMessage update;
      update.attributes = with_next_hop;
      update.nlri = std::move(batch);
      if (auto ok = AppendEncoded(out, update, options); !ok) return std::unexpected(ok.error());
    }
  }
  if (!v6.empty()) {
    if (!next_hops.ipv6) return Fail("IPv6 prefixes need an IPv6 next hop");
    MpReachNlri reach;
    reach.family = kIpv6Unicast;
    reach.next_hop = *next_hops.ipv6;
    reach.link_local_next_hop = next_hops.ipv6_link_local;
    auto encoded = EncodePathAttributes(shared, options);
    if (!encoded) return std::unexpected(encoded.error());
    // AFI, SAFI, next hop length, next hop, reserved octet.
    const std::size_t reach_fixed = 2 + 1 + 1 + (reach.link_local_next_hop ? 32 : 16) + 1;
    const std::size_t fixed = kUpdateFixedSize + encoded->size();
    auto batches = Split(v6, [fixed, reach_fixed](std::size_t nlri) {
      return fixed + AttributeSize(reach_fixed + nlri);
    });
    if (!batches) return std::unexpected(batches.error());
    for (auto& batch : *batches) {
      UpdateMessage update;
      update.attributes = shared;
      update.attributes.mp_reach = reach;
      update.attributes.mp_reach->nlri = std::move(batch);
      if (auto ok = AppendEncoded(out, update, options); !ok) return std::unexpected(ok.error());
    }
  }
  return out;
}

std::expected<std::vector<Bytes>, EncodeError> PackWithdrawals(std::span<const IpPrefix> prefixes,
                                                               const CodecOptions& options) {
  std::vector<IpPrefix> v4, v6;
  Partition(prefixes, v4, v6);
  std::vector<Bytes> out;
  auto v4_batches = Split(v4, [](std::size_t withdrawn) { return kUpdateFixedSize + withdrawn; });
  if (!v4_batches) return std::unexpected(v4_batches.error());
  for (auto& batch : *v4_batches) {
    UpdateMessage update;
    update.withdrawn = std::move(batch);
    if (auto ok = AppendEncoded(out, update, options); !ok) return std::unexpected(ok.error());
  }
  auto v6_batches = Split(v6, [](std::size_t withdrawn) {
    return kUpdateFixedSize + AttributeSize(2 + 1 + withdrawn);  // AFI, SAFI, routes
  });
  if (!v6_batches) return std::unexpected(v6_batches.error());
  for (auto& batch : *v6_batches) {
    UpdateMessage update;
    update.attributes.mp_unreach = MpUnreachNlri{kIpv6Unicast, std::move(batch)};
    if (auto ok = AppendEncoded(out, update, options); !ok) return std::unexpected(ok.error());
  }
  return out;
}

Bytes EncodeEndOfRib(AfiSafi family) {
  UpdateMessage update;
  if (family != kIpv4Unicast) update.attributes.mp_unreach = MpUnreachNlri{family, {}};
  // Cannot fail: no prefixes, a 3-octet attribute.
  return *EncodeUpdate(update, CodecOptions{});
}

}  // namespace bgpcomm::speaker
