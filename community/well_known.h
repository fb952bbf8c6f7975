// The well-known communities bgpcomm accepts by name wherever a value is accepted.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "community/value.h"

namespace bgpcomm::community {

struct WellKnownCommunity {
  std::string_view name;  // e.g. "no-export"
  StandardCommunity value;
  std::string_view reference;  // e.g. "RFC 1997"
};

// Every well-known name, in a fixed order.
std::span<const WellKnownCommunity> WellKnownCommunities();

// The value of a well-known name (exact, lowercase), or nullopt.
std::optional<StandardCommunity> LookupWellKnown(std::string_view name);

// The well-known name of a value, or nullopt when it has none.
std::optional<std::string_view> WellKnownName(StandardCommunity value);

// Why a standard value deserves a warning, or nullopt: the reserved range 0:x, or a value
// of the well-known range 65535:x that has no name (RFC 1997). E.g.
// `0:100 is in the reserved range 0:0-0:65535 (RFC 1997)`.
std::optional<std::string> RangeWarning(StandardCommunity value);

inline constexpr StandardCommunity kNoExport{65535, 65281};
inline constexpr StandardCommunity kNoAdvertise{65535, 65282};
inline constexpr StandardCommunity kBlackhole{65535, 666};

}  // namespace bgpcomm::community
