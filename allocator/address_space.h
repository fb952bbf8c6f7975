// Private to allocator/: addresses as 128-bit integers, a pool's ranges and its free
// addresses as intervals, so that finding the lowest free address of an IPv6 /64 costs a
// map lookup rather than a walk over 2^64 addresses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "community/ip_prefix.h"

namespace bgpcomm::allocator::internal {

using U128 = unsigned __int128;

struct Addr {
  bool v6 = false;
  U128 value = 0;  // IPv4 in the low 32 bits
  auto operator<=>(const Addr&) const = default;
};

struct AddrHash {
  std::size_t operator()(const Addr& a) const {
    const auto high = static_cast<std::uint64_t>(a.value >> 64);
    const auto low = static_cast<std::uint64_t>(a.value);
    return std::hash<std::uint64_t>{}(low ^ (high * 0x9e3779b97f4a7c15ULL) ^ (a.v6 ? 1 : 0));
  }
};

Addr FromIp(const community::IpAddress& ip);
community::IpAddress ToIp(const Addr& a);
std::string Format(const Addr& a);
// An IPv4 address ending in .0 or .255 (avoidBuggyIPs skips them).
inline bool Buggy(const Addr& a) {
  const auto last = static_cast<std::uint8_t>(a.value);
  return !a.v6 && (last == 0 || last == 255);
}
inline U128 MaxValue(bool v6) { return v6 ? ~U128{0} : U128{0xffffffffu}; }

// One CIDR of a pool, [first, last].
struct Range {
  Addr first;
  Addr last;
  int length = 0;  // prefix length
};
Range ToRange(const community::Prefix& prefix);

// The free addresses of one pool as disjoint, non-adjacent intervals [first, last].
class FreeSet {
 public:
  void AddRange(const Range& range);
  // Marks `a` free (it was taken).
  void Release(const Addr& a);
  // Marks `a` taken; false if it was not free.
  bool Take(const Addr& a);
  // The lowest free address in `range`, skipping .0/.255 when `avoid_buggy` (those are
  // dropped from the set when met, since such a pool can never hand them out).
  std::optional<Addr> LowestFree(const Range& range, bool avoid_buggy);
  std::size_t intervals() const { return free_.size(); }

 private:
  std::map<Addr, Addr> free_;  // first -> last
};

// MetalLB's capacity of a CIDR: 2^(bits-length), minus the .0/.255 addresses under
// avoidBuggyIPs; INT64_MAX for ranges of 2^62 addresses or more.
std::int64_t Capacity(const Range& range, bool avoid_buggy);
// a + b, saturating at INT64_MAX.
std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b);

}  // namespace bgpcomm::allocator::internal
