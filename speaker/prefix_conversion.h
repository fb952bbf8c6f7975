// Conversions between the domain core's address types (community/ip_prefix.h) and the
// codec's. Header-only over plain structs: nothing here links bgpcomm_community.
#pragma once

#include "community/ip_prefix.h"
#include "speaker/bgp_message.h"

namespace bgpcomm::speaker {

inline IpAddress FromCommunityAddress(const community::IpAddress& address) {
  return IpAddress{address.v6 ? Afi::kIpv6 : Afi::kIpv4, address.bytes};
}

// nullopt when the length is outside the family's range.
inline std::optional<IpPrefix> FromCommunityPrefix(const community::Prefix& prefix) {
  return IpPrefix::Make(FromCommunityAddress(prefix.address), prefix.length);
}

inline community::IpAddress ToCommunityAddress(const IpAddress& address) {
  community::IpAddress out;
  out.v6 = address.afi == Afi::kIpv6;
  out.bytes = address.bytes;
  return out;
}

inline community::Prefix ToCommunityPrefix(const IpPrefix& prefix) {
  community::Prefix out;
  out.address = ToCommunityAddress(prefix.address);
  out.length = prefix.length;
  return out;
}

}  // namespace bgpcomm::speaker
