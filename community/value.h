// Community values: standard (RFC 1997), large (RFC 8092) and the well-known names.
#pragma once

#include <compare>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <variant>

namespace bgpcomm::community {

// A standard community A:B (RFC 1997): A and B are 16-bit.
struct StandardCommunity {
  std::uint16_t high = 0;  // conventionally the ASN
  std::uint16_t low = 0;

  // The 32-bit value as carried in the COMMUNITIES attribute: high << 16 | low.
  std::uint32_t Raw() const { return (std::uint32_t{high} << 16) | low; }
  static StandardCommunity FromRaw(std::uint32_t raw) {
    return {static_cast<std::uint16_t>(raw >> 16), static_cast<std::uint16_t>(raw & 0xffff)};
  }
  auto operator<=>(const StandardCommunity&) const = default;
};

// A large community A:B:C (RFC 8092): global administrator and two local data parts.
struct LargeCommunity {
  std::uint32_t global_admin = 0;
  std::uint32_t local_data1 = 0;
  std::uint32_t local_data2 = 0;
  auto operator<=>(const LargeCommunity&) const = default;
};

// One community value of either kind.
using CommunityValue = std::variant<StandardCommunity, LargeCommunity>;

// The result of parsing a value: the value, and whether the text was already canonical
// (false for leading zeros, which are accepted and canonicalised).
struct ParsedValue {
  CommunityValue value;
  bool canonical = true;
};

// Parses `text` as a literal (`A:B`, `large:A:B:C`) or a well-known name (`no-export`).
// On failure returns a message that quotes the input and names the field and the reason,
// e.g. `"64512:70000": second field 70000 exceeds 65535`.
std::expected<ParsedValue, std::string> ParseValue(std::string_view text);

// Parses only literals (no well-known names); same messages as ParseValue.
std::expected<ParsedValue, std::string> ParseLiteral(std::string_view text);

// The canonical text: `A:B` or `large:A:B:C`, decimal, no leading zeros. Well-known
// values are formatted numerically (`65535:65281`).
std::string Format(const CommunityValue& value);
std::string Format(StandardCommunity value);
std::string Format(LargeCommunity value);

// True when `text` has the syntax of a literal (contains ':'), valid or not. Entries that
// are not literals are names: aliases or well-known names.
bool LooksLikeLiteral(std::string_view text);

// `text` in double quotes for a message, with `"`, `\` and bytes outside printable ASCII
// escaped (`\xNN`), so that untrusted input cannot forge or break a message line.
std::string Quote(std::string_view text);

}  // namespace bgpcomm::community
