// IPv4/IPv6 addresses and prefixes, and IPAddressPool address entries (CIDR or range).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace bgpcomm::community {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4 bytes
  auto operator<=>(const IpAddress&) const = default;
  int Bits() const { return v6 ? 128 : 32; }
};

struct Prefix {
  IpAddress address;  // host bits are zero
  int length = 0;
  auto operator<=>(const Prefix&) const = default;
};

// Parses a dotted-quad IPv4 or an RFC 4291 IPv6 address (no zone).
std::expected<IpAddress, std::string> ParseAddress(std::string_view text);
// Parses "address/length"; host bits are cleared (as Go's net.ParseCIDR does).
std::expected<Prefix, std::string> ParsePrefix(std::string_view text);
// An IPAddressPool address entry: a CIDR, or a range "first-last" of one family with
// first <= last, returned as the CIDRs that cover it exactly.
std::expected<std::vector<Prefix>, std::string> ParsePoolEntry(std::string_view text);

// The prefix of `length` bits that contains `address`.
Prefix Truncate(const IpAddress& address, int length);
// True when `prefix` contains `address` (same family).
bool Contains(const Prefix& prefix, const IpAddress& address);

std::string Format(const IpAddress& address);  // IPv6 in RFC 5952 form
std::string Format(const Prefix& prefix);

}  // namespace bgpcomm::community
