#include "community/ip_prefix.h"

#include <algorithm>
#include <optional>

#include "community/value.h"

namespace bgpcomm::community {
namespace {

using Uint128 = unsigned __int128;

std::optional<int> ParseDecimal(std::string_view text, int max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

// Dotted quad, each part 0..255 without leading zeros (Go rejects them since 1.17: they
// read as octal elsewhere).
std::optional<std::array<std::uint8_t, 4>> ParseV4(std::string_view text) {
  std::array<std::uint8_t, 4> out{};
  for (int i = 0; i < 4; ++i) {
    std::size_t dot = text.find('.');
    std::string_view part = i < 3 ? text.substr(0, dot) : text;
    if (i < 3 && dot == std::string_view::npos) return std::nullopt;
    if (part.size() > 1 && part[0] == '0') return std::nullopt;
    auto value = ParseDecimal(part, 255);
    if (!value) return std::nullopt;
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(*value);
    if (i < 3) text.remove_prefix(dot + 1);
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 4291 §2.2 text forms: eight groups, "::" once, an embedded IPv4 tail.
std::optional<std::array<std::uint8_t, 16>> ParseV6(std::string_view text) {
  std::array<std::uint8_t, 16> out{};
  std::array<std::uint16_t, 8> groups{};
  int count = 0;
  int gap = -1;  // group index where "::" stands
  if (text.starts_with("::")) {
    gap = 0;
    text.remove_prefix(2);
  } else if (text.starts_with(":")) {
    return std::nullopt;
  }
  bool v4_tail = false;
  std::array<std::uint8_t, 4> v4{};
  while (!text.empty()) {
    if (count >= 8) return std::nullopt;
    std::size_t colon = text.find(':');
    std::string_view part = text.substr(0, colon);
    if (part.find('.') != std::string_view::npos) {
      if (colon != std::string_view::npos || count > 6) return std::nullopt;
      auto parsed = ParseV4(part);
      if (!parsed) return std::nullopt;
      v4 = *parsed;
      v4_tail = true;
      count += 2;
      text = {};
      break;
    }
    if (part.empty() || part.size() > 4) return std::nullopt;
    int value = 0;
    for (char c : part) {
      int digit = HexDigit(c);
      if (digit < 0) return std::nullopt;
      value = value * 16 + digit;
    }
    groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(value);
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
    if (text.starts_with(":")) {
      if (gap >= 0) return std::nullopt;
      gap = count;
      text.remove_prefix(1);
    } else if (text.empty()) {
      return std::nullopt;  // a trailing single ':'
    }
  }
  if (v4_tail) {
    groups[static_cast<std::size_t>(count - 2)] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
    groups[static_cast<std::size_t>(count - 1)] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
  }
  if (gap < 0) {
    if (count != 8) return std::nullopt;
  } else {
    if (count > 7) return std::nullopt;  // "::" stands for at least one group
    int move = count - gap;
    for (int i = move - 1; i >= 0; --i) {
      groups[static_cast<std::size_t>(8 - move + i)] = groups[static_cast<std::size_t>(gap + i)];
    }
    for (int i = gap; i < 8 - move; ++i) groups[static_cast<std::size_t>(i)] = 0;
  }
  for (std::size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xff);
  }
  return out;
}

Uint128 ToInteger(const IpAddress& address) {
  Uint128 value = 0;
  for (int i = 0; i < address.Bits() / 8; ++i)
    value = value << 8 | address.bytes[static_cast<std::size_t>(i)];
  return value;
}

IpAddress FromInteger(Uint128 value, bool v6) {
  IpAddress address;
  address.v6 = v6;
  int size = v6 ? 16 : 4;
  for (int i = size - 1; i >= 0; --i) {
    address.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value & 0xff);
    value >>= 8;
  }
  return address;
}

// The host bits below which `value` is aligned (its trailing zero bits), capped at `bits`.
int TrailingZeros(Uint128 value, int bits) {
  int zeros = 0;
  while (zeros < bits && ((value >> zeros) & 1) == 0) ++zeros;
  return zeros;
}

}  // namespace

std::expected<IpAddress, std::string> ParseAddress(std::string_view text) {
  IpAddress address;
  if (text.find(':') != std::string_view::npos) {
    if (auto v6 = ParseV6(text)) {
      address.v6 = true;
      address.bytes = *v6;
      return address;
    }
  } else if (auto v4 = ParseV4(text)) {
    std::copy(v4->begin(), v4->end(), address.bytes.begin());
    return address;
  }
  return std::unexpected(Quote(text) + " is not an IP address");
}

std::expected<Prefix, std::string> ParsePrefix(std::string_view text) {
  std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return std::unexpected(Quote(text) + " is not a CIDR (address/length)");
  }
  auto address = ParseAddress(text.substr(0, slash));
  if (!address) return std::unexpected(Quote(text) + ": " + address.error());
  std::string_view length_text = text.substr(slash + 1);
  auto length = ParseDecimal(length_text, address->Bits());
  if (!length || (length_text.size() > 1 && length_text[0] == '0')) {
    return std::unexpected(Quote(text) + ": prefix length " + Quote(length_text) +
                           " is not a number in 0.." + std::to_string(address->Bits()));
  }
  return Truncate(*address, *length);
}

std::expected<std::vector<Prefix>, std::string> ParsePoolEntry(std::string_view text) {
  std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    if (text.find('/') == std::string_view::npos) {
      return std::unexpected(Quote(text) +
                             " is neither a CIDR (address/length) nor a range (first-last)");
    }
    auto prefix = ParsePrefix(text);
    if (!prefix) return std::unexpected(prefix.error());
    return std::vector<Prefix>{*prefix};
  }
  // MetalLB trims spaces around the two ends of a range.
  auto trim = [](std::string_view part) {
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    return part;
  };
  auto first = ParseAddress(trim(text.substr(0, dash)));
  if (!first) return std::unexpected(Quote(text) + ": first address " + first.error());
  auto last = ParseAddress(trim(text.substr(dash + 1)));
  if (!last) return std::unexpected(Quote(text) + ": last address " + last.error());
  if (first->v6 != last->v6) {
    return std::unexpected(Quote(text) + ": first and last address are of different families");
  }
  if (*last < *first) {
    return std::unexpected(Quote(text) + ": first address " + Format(*first) +
                           " is after last address " + Format(*last));
  }
  // The exact CIDR cover: from `first`, the largest aligned block that does not pass `last`.
  const int bits = first->Bits();
  const Uint128 mask = bits == 128 ? ~Uint128{0} : ((Uint128{1} << bits) - 1);
  Uint128 low = ToInteger(*first);
  const Uint128 high = ToInteger(*last);
  std::vector<Prefix> prefixes;
  while (true) {
    int host = TrailingZeros(low, bits);
    // Shrink until the block [low, low + 2^host - 1] ends at or before `high`.
    while (host > 0 && (host >= bits ? mask : (Uint128{1} << host) - 1) > high - low) --host;
    prefixes.push_back(Prefix{FromInteger(low, first->v6), bits - host});
    Uint128 block_last = low + (host >= bits ? mask : (Uint128{1} << host) - 1);
    if (block_last >= high) break;
    low = block_last + 1;
  }
  return prefixes;
}

Prefix Truncate(const IpAddress& address, int length) {
  Prefix prefix;
  prefix.address = address;
  prefix.length = std::clamp(length, 0, address.Bits());
  for (int bit = prefix.length; bit < address.Bits(); ++bit) {
    prefix.address.bytes[static_cast<std::size_t>(bit / 8)] &=
        static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return prefix;
}

bool Contains(const Prefix& prefix, const IpAddress& address) {
  if (prefix.address.v6 != address.v6) return false;
  return Truncate(address, prefix.length).address == prefix.address;
}

std::string Format(const IpAddress& address) {
  if (!address.v6) {
    return std::to_string(address.bytes[0]) + "." + std::to_string(address.bytes[1]) + "." +
           std::to_string(address.bytes[2]) + "." + std::to_string(address.bytes[3]);
  }
  std::array<std::uint16_t, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i) {
    groups[i] = static_cast<std::uint16_t>(address.bytes[2 * i] << 8 | address.bytes[2 * i + 1]);
  }
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  bool mapped = std::all_of(groups.begin(), groups.begin() + 5, [](auto g) { return g == 0; }) &&
                groups[5] == 0xffff;
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first on a tie.
  int best_start = -1, best_length = 0;
  int limit = mapped ? 6 : 8;
  for (int i = 0; i < limit;) {
    if (groups[static_cast<std::size_t>(i)] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < limit && groups[static_cast<std::size_t>(j)] == 0) ++j;
    if (j - i > best_length) {
      best_start = i;
      best_length = j - i;
    }
    i = j;
  }
  if (best_length < 2) best_start = -1;
  static constexpr char kHex[] = "0123456789abcdef";
  auto hex = [](std::uint16_t g) {
    std::string text;
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int digit = (g >> shift) & 0xf;
      if (digit != 0 || started || shift == 0) {
        text.push_back(kHex[digit]);
        started = true;
      }
    }
    return text;
  };
  std::string out;
  for (int i = 0; i < limit;) {
    if (i == best_start) {
      out += "::";
      i += best_length;
      continue;
    }
    if (!out.empty() && !out.ends_with(':')) out += ':';
    out += hex(groups[static_cast<std::size_t>(i)]);
    ++i;
  }
  if (mapped) {
    if (!out.ends_with(':')) out += ':';
    out += std::to_string(address.bytes[12]) + "." + std::to_string(address.bytes[13]) + "." +
           std::to_string(address.bytes[14]) + "." + std::to_string(address.bytes[15]);
  }
  return out;
}

std::string Format(const Prefix& prefix) {
  return Format(prefix.address) + "/" + std::to_string(prefix.length);
}

}  // namespace bgpcomm::community
