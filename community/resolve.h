// Resolution of spec.communities entries into canonical values.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "community/alias_table.h"
#include "community/diagnostic.h"

namespace bgpcomm::community {

enum class UnresolvedPolicy { kReject, kWarn };

// What an advertisement's entries resolve to (the stored annotation's content).
struct Resolution {
  std::vector<std::string> from;         // the entries exactly as written
  std::vector<std::string> communities;  // canonical, de-duplicated, in entry order
  std::vector<std::string> unresolved;   // entries left open under kWarn
  bool operator==(const Resolution&) const = default;
};

// Resolves `entries` (field path `field`, e.g. "spec.communities"; entry i is reported as
// `field[i]`): a literal, an alias of `aliases` (an alias wins over a well-known name of
// the same spelling) or a well-known name. Invalid literals are errors. Unknown names are
// errors under kReject and warnings (and listed in `unresolved`) under kWarn; both carry
// a did-you-mean suggestion (aliases and well-known names) when one is close, and name
// `namespace_name` when it is given. Also warns about non-canonical literals, reserved
// and unassigned values, duplicates (dropped, first occurrence kept) and blackhole
// without no-export/no-advertise (RFC 7999 §3.2).
Resolution Resolve(std::span<const std::string> entries, const AliasTable& aliases,
                   UnresolvedPolicy policy, std::string_view field, Diagnostics& out,
                   std::string_view namespace_name = {});

// The value one entry resolves to (literal, alias, then well-known name), or nullopt when
// it is an invalid literal or an unknown name. Reports nothing.
std::optional<CommunityValue> ResolveEntry(std::string_view entry, const AliasTable& aliases);

// Levenshtein distance between two strings.
std::size_t EditDistance(std::string_view a, std::string_view b);

// The closest of `candidates` to `name` if close enough to be a likely typo
// (distance <= max(1, len/3), ignoring ASCII case; the first of equally close ones), or
// nullopt. Names and candidates longer than 253 characters are never suggested.
std::optional<std::string> Suggest(std::string_view name,
                                   std::span<const std::string_view> candidates);

}  // namespace bgpcomm::community
