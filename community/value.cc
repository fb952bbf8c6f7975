#include "community/value.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "community/resolve.h"
#include "community/well_known.h"

namespace bgpcomm::community {
namespace {

constexpr std::string_view kLargePrefix = "large";

std::string Ordinal(std::size_t index) {
  static constexpr std::string_view kWords[] = {"first", "second",  "third",  "fourth", "fifth",
                                                "sixth", "seventh", "eighth", "ninth",  "tenth"};
  if (index < std::size(kWords)) return std::string(kWords[index]);
  const std::size_t n = index + 1;
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::string FieldText(std::string_view field) {
  // Fields are quoted only when they hold something other than digits, signs and letters.
  for (char c : field) {
    bool plain =
        IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '-';
    if (!plain) return Quote(field);
  }
  return std::string(field);
}

// Parses one decimal field of at most `max`; `canonical` is cleared on leading zeros.
std::expected<std::uint32_t, std::string> ParseField(std::string_view input, std::string_view field,
                                                     std::size_t index, std::uint32_t max,
                                                     bool& canonical) {
  // Messages are built only on failure: this runs for every value of every admission.
  auto which = [&] { return Quote(input) + ": " + Ordinal(index) + " field"; };
  if (field.empty()) return std::unexpected(which() + " is empty");
  if (field.front() == '+' || field.front() == '-') {
    return std::unexpected(which() + " " + FieldText(field) +
                           " has a sign; only decimal digits are allowed");
  }
  if (field.size() > 1 && field[0] == '0' && (field[1] == 'x' || field[1] == 'X')) {
    return std::unexpected(which() + " " + FieldText(field) +
                           " is hexadecimal; only decimal digits are allowed");
  }
  if (!std::all_of(field.begin(), field.end(), IsDigit)) {
    return std::unexpected(which() + " " + FieldText(field) + " is not a decimal number");
  }
  std::string_view digits = field;
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (digits.size() != field.size()) canonical = false;
  // More than 10 significant digits exceeds every maximum; checked before converting so
  // that no input can overflow.
  std::uint64_t number = 0;
  bool too_large = digits.size() > 10;
  if (!too_large) {
    for (char c : digits) number = number * 10 + static_cast<std::uint64_t>(c - '0');
    too_large = number > max;
  }
  if (too_large) {
    return std::unexpected(which() + " " + std::string(field) + " exceeds " + std::to_string(max));
  }
  return static_cast<std::uint32_t>(number);
}

}  // namespace

std::string Quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

bool LooksLikeLiteral(std::string_view text) { return text.find(':') != std::string_view::npos; }

std::expected<ParsedValue, std::string> ParseLiteral(std::string_view text) {
  auto quoted = [&] { return Quote(text); };
  if (text.empty()) {
    return std::unexpected(quoted() + ": empty value; expected A:B or large:A:B:C");
  }
  std::vector<std::string_view> fields = Split(text, ':');
  const bool large = fields.size() > 1 && EqualsIgnoreCase(Trim(fields[0]), kLargePrefix);

  // Whitespace first: it is the likeliest copy-and-paste mistake and hides everything else.
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (std::none_of(fields[i].begin(), fields[i].end(), IsSpace)) continue;
    if (large && i == 0) return std::unexpected(quoted() + ": the large prefix contains whitespace");
    return std::unexpected(quoted() + ": " + Ordinal(large ? i - 1 : i) +
                           " field contains whitespace");
  }

  std::uint32_t max = 65535;
  std::span<const std::string_view> numbers(fields);
  if (large) {
    if (fields[0] != kLargePrefix) {
      return std::unexpected(quoted() + ": the prefix " + FieldText(fields[0]) +
                             " must be lowercase \"large\"");
    }
    numbers = numbers.subspan(1);
    max = 4294967295u;
    if (numbers.size() != 3) {
      return std::unexpected(quoted() + ": expected large:A:B:C, found " +
                             std::to_string(numbers.size()) + " field" +
                             (numbers.size() == 1 ? "" : "s") + " after \"large:\"");
    }
  } else if (numbers.size() != 2) {
    std::string message = quoted() + ": expected A:B or large:A:B:C, found " +
                          std::to_string(numbers.size()) + " field" +
                          (numbers.size() == 1 ? "" : "s");
    auto all_digits = [](std::string_view f) {
      return !f.empty() && std::all_of(f.begin(), f.end(), IsDigit);
    };
    if (numbers.size() == 3 && std::all_of(numbers.begin(), numbers.end(), all_digits)) {
      message += "; did you mean \"large:" + std::string(text) + "\"?";
    }
    return std::unexpected(message);
  }

  ParsedValue parsed;
  std::uint32_t parts[3] = {};
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    auto part = ParseField(text, numbers[i], i, max, parsed.canonical);
    if (!part) return std::unexpected(part.error());
    parts[i] = *part;
  }
  if (large) {
    parsed.value = LargeCommunity{parts[0], parts[1], parts[2]};
  } else {
    parsed.value = StandardCommunity{static_cast<std::uint16_t>(parts[0]),
                                     static_cast<std::uint16_t>(parts[1])};
  }
  return parsed;
}

std::expected<ParsedValue, std::string> ParseValue(std::string_view text) {
  if (LooksLikeLiteral(text)) return ParseLiteral(text);
  auto quoted = [&] { return Quote(text); };
  if (text.empty()) {
    return std::unexpected(quoted() +
                           ": empty value; expected A:B, large:A:B:C or a well-known name");
  }
  if (auto known = LookupWellKnown(text)) return ParsedValue{*known, true};
  if (std::any_of(text.begin(), text.end(), IsSpace)) {
    return std::unexpected(quoted() + ": contains whitespace");
  }
  if (std::all_of(text.begin(), text.end(), IsDigit)) return ParseLiteral(text);
  std::string message =
      quoted() + ": not a community value (A:B or large:A:B:C) or a well-known name";
  std::vector<std::string_view> names;
  for (const auto& known : WellKnownCommunities()) names.push_back(known.name);
  if (auto suggestion = Suggest(text, names)) message += "; did you mean \"" + *suggestion + "\"?";
  return std::unexpected(message);
}

std::string Format(StandardCommunity value) {
  return std::to_string(value.high) + ":" + std::to_string(value.low);
}

std::string Format(LargeCommunity value) {
  return "large:" + std::to_string(value.global_admin) + ":" + std::to_string(value.local_data1) +
         ":" + std::to_string(value.local_data2);
}

std::string Format(const CommunityValue& value) {
  return std::visit([](const auto& v) { return Format(v); }, value);
}

}  // namespace bgpcomm::community
