// Helpers for golden byte tests: hex text <-> bytes, and message framing.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bgpcomm::speaker::testing {

// Parses hex digits, ignoring spaces, newlines and '|' separators.
inline std::vector<std::uint8_t> FromHex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  int high = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else if (c == ' ' || c == '\n' || c == '|') {
      continue;
    } else {
      throw std::invalid_argument("bad hex character");
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("odd number of hex digits");
  return out;
}

inline std::string ToHex(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

inline constexpr std::string_view kMarker = "ffffffffffffffffffffffffffffffff";

// A whole message: marker, length computed from `body_hex`, `type`, body.
inline std::vector<std::uint8_t> Message(std::uint8_t type, std::string_view body_hex) {
  std::vector<std::uint8_t> body = FromHex(body_hex);
  std::vector<std::uint8_t> out(16, 0xff);
  const std::size_t length = 19 + body.size();
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length));
  out.push_back(type);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// An UPDATE with the given withdrawn routes, path attributes and NLRI fields; the two
// length fields are computed.
inline std::vector<std::uint8_t> Update(std::string_view withdrawn_hex,
                                        std::string_view attributes_hex,
                                        std::string_view nlri_hex) {
  const auto withdrawn = FromHex(withdrawn_hex);
  const auto attributes = FromHex(attributes_hex);
  auto u16 = [](std::size_t v) {
    static constexpr char kDigits[] = "0123456789abcdef";
    return std::string{kDigits[(v >> 12) & 0xf], kDigits[(v >> 8) & 0xf], kDigits[(v >> 4) & 0xf],
                       kDigits[v & 0xf]};
  };
  return Message(2, u16(withdrawn.size()) + std::string(withdrawn_hex) + u16(attributes.size()) +
                        std::string(attributes_hex) + std::string(nlri_hex));
}

}  // namespace bgpcomm::speaker::testing
