#include "community/duration.h"

#include <cstdint>
#include <utility>

namespace bgpcomm::community {
namespace {

constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;  // |INT64_MIN|

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// The unit's length in nanoseconds, 0 for an unknown unit.
std::uint64_t UnitNanos(std::string_view unit) {
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"ns", 1},
      {"us", 1'000},
      {"\xc2\xb5s", 1'000},  // U+00B5 MICRO SIGN
      {"\xce\xbcs", 1'000},  // U+03BC GREEK SMALL LETTER MU
      {"ms", 1'000'000},
      {"s", 1'000'000'000},
      {"m", 60'000'000'000},
      {"h", 3'600'000'000'000},
  };
  for (const auto& [name, nanos] : kUnits) {
    if (name == unit) return nanos;
  }
  return 0;
}

// Appends `value` in decimal.
void AppendInt(std::string& out, std::uint64_t value) { out += std::to_string(value); }

// Appends the `digits` low decimal digits of `value` as a fraction (".5", nothing when they
// are all zero) and returns the value without them.
std::uint64_t AppendFraction(std::string& out, std::uint64_t value, int digits) {
  std::string fraction;
  bool significant = false;
  for (int i = 0; i < digits; ++i) {
    const char digit = static_cast<char>('0' + value % 10);
    significant = significant || digit != '0';
    if (significant) fraction.insert(fraction.begin(), digit);
    value /= 10;
  }
  if (!fraction.empty()) out += "." + fraction;
  return value;
}

}  // namespace

std::expected<std::chrono::nanoseconds, std::string> ParseGoDuration(std::string_view text) {
  const std::string_view original = text;
  auto invalid = [&](std::string why) -> std::unexpected<std::string> {
    return std::unexpected(why + " in " + Quoted(original));
  };
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty()) return invalid("no number");

  std::uint64_t total = 0;
  while (!text.empty()) {
    if (!IsDigit(text[0]) && text[0] != '.') return invalid("expected a number");
    // Integer part; more than 2^63 is an overflow whatever the unit.
    std::uint64_t whole = 0;
    std::size_t i = 0;
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      if (whole > kLimit / 10) return invalid("overflow");
      whole = whole * 10 + static_cast<std::uint64_t>(text[i] - '0');
      if (whole > kLimit) return invalid("overflow");
    }
    const bool has_whole = i > 0;
    text.remove_prefix(i);
    // Fraction: digits past what 63 bits hold are dropped, as Go drops them.
    std::uint64_t fraction = 0;
    double scale = 1;
    bool has_fraction = false;
    if (!text.empty() && text[0] == '.') {
      text.remove_prefix(1);
      bool saturated = false;
      std::size_t j = 0;
      for (; j < text.size() && IsDigit(text[j]); ++j) {
        if (saturated) continue;
        if (fraction > (kLimit - 1) / 10) {
          saturated = true;
          continue;
        }
        const std::uint64_t next = fraction * 10 + static_cast<std::uint64_t>(text[j] - '0');
        if (next > kLimit) {
          saturated = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      has_fraction = j > 0;
      text.remove_prefix(j);
    }
    if (!has_whole && !has_fraction) return invalid("expected a number");

    std::size_t unit_end = 0;
    while (unit_end < text.size() && !IsDigit(text[unit_end]) && text[unit_end] != '.') {
      ++unit_end;
    }
    if (unit_end == 0) return invalid("missing unit");
    const std::string_view unit = text.substr(0, unit_end);
    text.remove_prefix(unit_end);
    const std::uint64_t nanos = UnitNanos(unit);
    if (nanos == 0) {
      return invalid("unknown unit " + Quoted(unit) + " (use ns, us, ms, s, m or h)");
    }
    if (whole > kLimit / nanos) return invalid("overflow");
    whole *= nanos;
    if (fraction > 0) {
      whole += static_cast<std::uint64_t>(static_cast<double>(fraction) *
                                          (static_cast<double>(nanos) / scale));
      if (whole > kLimit) return invalid("overflow");
    }
    total += whole;
    if (total > kLimit) return invalid("overflow");
  }
  if (negative) {
    return std::chrono::nanoseconds(total == kLimit ? INT64_MIN
                                                    : -static_cast<std::int64_t>(total));
  }
  if (total > kLimit - 1) return invalid("overflow");
  return std::chrono::nanoseconds(static_cast<std::int64_t>(total));
}

std::string FormatGoDuration(std::chrono::nanoseconds duration) {
  const std::int64_t count = duration.count();
  const bool negative = count < 0;
  std::uint64_t value = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(count)
                                 : static_cast<std::uint64_t>(count);
  std::string out;
  if (value == 0) return "0s";
  if (value < 1'000'000'000) {
    std::string unit;
    int digits = 0;
    if (value < 1'000) {
      unit = "ns";
    } else if (value < 1'000'000) {
      unit = "\xc2\xb5s";
      digits = 3;
    } else {
      unit = "ms";
      digits = 6;
    }
    std::string fraction;
    value = AppendFraction(fraction, value, digits);
    AppendInt(out, value);
    out += fraction + unit;
  } else {
    std::string seconds_fraction;
    value = AppendFraction(seconds_fraction, value, 9);  // whole seconds remain
    const std::uint64_t seconds = value % 60;
    value /= 60;
    if (value > 0) {
      const std::uint64_t minutes = value % 60;
      value /= 60;
      if (value > 0) {
        AppendInt(out, value);
        out += "h";
      }
      AppendInt(out, minutes);
      out += "m";
    }
    AppendInt(out, seconds);
    out += seconds_fraction + "s";
  }
  return negative ? "-" + out : out;
}

}  // namespace bgpcomm::community
