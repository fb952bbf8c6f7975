#include "allocator/address_space.h"

#include <iterator>
#include <limits>

namespace bgpcomm::allocator::internal {

Addr FromIp(const community::IpAddress& ip) {
  Addr a{.v6 = ip.v6};
  const int n = ip.v6 ? 16 : 4;
  for (int i = 0; i < n; ++i) a.value = (a.value << 8) | ip.bytes[i];
  return a;
}

community::IpAddress ToIp(const Addr& a) {
  community::IpAddress ip{.v6 = a.v6};
  const int n = a.v6 ? 16 : 4;
  U128 v = a.value;
  for (int i = n - 1; i >= 0; --i) {
    ip.bytes[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
  return ip;
}

std::string Format(const Addr& a) { return community::Format(ToIp(a)); }

Range ToRange(const community::Prefix& prefix) {
  Range r{.first = FromIp(prefix.address), .length = prefix.length};
  const int host_bits = prefix.address.Bits() - prefix.length;
  const U128 host_mask = host_bits >= 128 ? ~U128{0} : ((U128{1} << host_bits) - 1);
  r.last = Addr{.v6 = r.first.v6, .value = r.first.value | host_mask};
  return r;
}

void FreeSet::AddRange(const Range& range) {
  // Ranges of one pool never overlap (ValidatePools); merge with neighbours when adjacent.
  Addr first = range.first;
  Addr last = range.last;
  auto next = free_.lower_bound(first);
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->second.v6 == first.v6 && first.value != 0 && prev->second.value == first.value - 1) {
      first = prev->first;
      free_.erase(prev);
    }
  }
  next = free_.lower_bound(first);
  if (next != free_.end() && next->first.v6 == last.v6 && last.value != MaxValue(last.v6) &&
      next->first.value == last.value + 1) {
    last = next->second;
    free_.erase(next);
  }
  free_[first] = last;
}

void FreeSet::Release(const Addr& a) { AddRange(Range{.first = a, .last = a}); }

bool FreeSet::Take(const Addr& a) {
  auto it = free_.upper_bound(a);
  if (it == free_.begin()) return false;
  --it;
  const Addr first = it->first;
  const Addr last = it->second;
  if (first.v6 != a.v6 || last < a) return false;
  free_.erase(it);
  if (first < a) free_[first] = Addr{.v6 = a.v6, .value = a.value - 1};
  if (a < last) free_[Addr{.v6 = a.v6, .value = a.value + 1}] = last;
  return true;
}

std::optional<Addr> FreeSet::LowestFree(const Range& range, bool avoid_buggy) {
  auto it = free_.upper_bound(range.first);
  if (it != free_.begin()) {
    auto prev = std::prev(it);
    if (prev->first.v6 == range.first.v6 && !(prev->second < range.first)) it = prev;
  }
  while (it != free_.end()) {
    const Addr start = it->first < range.first ? range.first : it->first;
    if (range.last < start) return std::nullopt;
    const Addr end = range.last < it->second ? range.last : it->second;
    Addr candidate = start;
    if (avoid_buggy) {
      while (!(end < candidate) && Buggy(candidate) && candidate.value != MaxValue(false))
        ++candidate.value;
      if (Buggy(candidate)) candidate = Addr{.v6 = end.v6, .value = end.value + 1};
    }
    if (!(end < candidate)) return candidate;
    if (avoid_buggy && start == it->first && end == it->second) {
      // Only .0/.255 addresses: never handed out by this pool; forget them.
      it = free_.erase(it);
      continue;
    }
    ++it;
  }
  return std::nullopt;
}

std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (b > 0 && a > kMax - b) return kMax;
  return a + b;
}

std::int64_t Capacity(const Range& range, bool avoid_buggy) {
  const int bits = range.first.v6 ? 128 : 32;
  const int host_bits = bits - range.length;
  if (host_bits >= 62) return std::numeric_limits<std::int64_t>::max();
  std::int64_t size = std::int64_t{1} << host_bits;
  if (avoid_buggy && !range.first.v6) {
    if (range.length <= 24) {
      size -= (std::int64_t{1} << (24 - range.length)) * 2;
    } else {
      // A /32 is one address: counted once (MetalLB subtracts it twice and reports -1).
      if (Buggy(range.first)) --size;
      if (Buggy(range.last) && range.last != range.first) --size;
    }
  }
  return size;
}

}  // namespace bgpcomm::allocator::internal
