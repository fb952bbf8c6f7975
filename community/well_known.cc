#include "community/well_known.h"

#include <array>

namespace bgpcomm::community {
namespace {

constexpr std::array<WellKnownCommunity, 9> kWellKnown = {{
    {"no-export", {65535, 65281}, "RFC 1997"},
    {"no-advertise", {65535, 65282}, "RFC 1997"},
    {"no-export-subconfed", {65535, 65283}, "RFC 1997"},
    {"no-peer", {65535, 65284}, "RFC 3765"},
    {"blackhole", {65535, 666}, "RFC 7999"},
    {"graceful-shutdown", {65535, 0}, "RFC 8326"},
    {"accept-own", {65535, 1}, "RFC 7611"},
    {"llgr-stale", {65535, 6}, "RFC 9494"},
    {"no-llgr", {65535, 7}, "RFC 9494"},
}};

}  // namespace

std::span<const WellKnownCommunity> WellKnownCommunities() { return kWellKnown; }

std::optional<StandardCommunity> LookupWellKnown(std::string_view name) {
  for (const auto& known : kWellKnown)
    if (known.name == name) return known.value;
  return std::nullopt;
}

std::optional<std::string_view> WellKnownName(StandardCommunity value) {
  for (const auto& known : kWellKnown)
    if (known.value == value) return known.name;
  return std::nullopt;
}

std::optional<std::string> RangeWarning(StandardCommunity value) {
  std::string text = std::to_string(value.high) + ":" + std::to_string(value.low);
  if (value.high == 0) return text + " is in the reserved range 0:0-0:65535 (RFC 1997)";
  if (value.high == 65535 && !WellKnownName(value)) {
    return text +
           " is in the well-known range 65535:0-65535:65535 (RFC 1997) but is not an assigned "
           "well-known community";
  }
  return std::nullopt;
}

}  // namespace bgpcomm::community
