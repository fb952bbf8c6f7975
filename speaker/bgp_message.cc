#include "speaker/bgp_message.h"

#include <algorithm>

namespace bgpcomm::speaker {

std::optional<IpPrefix> IpPrefix::Make(const IpAddress& address, int length) {
  const int bits = address.afi == Afi::kIpv6 ? 128 : 32;
  if ((address.afi != Afi::kIpv4 && address.afi != Afi::kIpv6) || length < 0 || length > bits) {
    return std::nullopt;
  }
  IpPrefix prefix;
  prefix.address.afi = address.afi;
  prefix.length = static_cast<std::uint8_t>(length);
  const int full = length / 8;
  std::copy_n(address.bytes.begin(), full, prefix.address.bytes.begin());
  if (length % 8 != 0) {
    prefix.address.bytes[full] =
        static_cast<std::uint8_t>(address.bytes[full] & (0xff << (8 - length % 8)));
  }
  return prefix;
}

bool UpdateMessage::TreatAsWithdraw() const {
  return std::any_of(attribute_errors.begin(), attribute_errors.end(),
                     [](const auto& e) { return e.action == AttributeAction::kTreatAsWithdraw; });
}

std::optional<AfiSafi> UpdateMessage::EndOfRibFamily() const {
  if (!withdrawn.empty() || !nlri.empty() || !attribute_errors.empty()) return std::nullopt;
  const PathAttributes& a = attributes;
  const bool only_mp_unreach = !a.origin && !a.as_path && !a.next_hop && !a.multi_exit_disc &&
                               !a.local_pref && a.communities.empty() &&
                               a.large_communities.empty() && !a.mp_reach && a.other.empty();
  if (!only_mp_unreach) return std::nullopt;
  if (!a.mp_unreach) return kIpv4Unicast;
  if (a.mp_unreach->withdrawn.empty()) return a.mp_unreach->family;
  return std::nullopt;
}

}  // namespace bgpcomm::speaker
