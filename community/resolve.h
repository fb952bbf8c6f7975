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

// Resolves `entries` (field path `field`, e.g. "spec.communities"): a literal, an alias
// of `aliases` (an alias wins over a well-known name of the same spelling) or a
// well-known name. Unknown names are errors under kReject and warnings (and listed in
// `unresolved`) under kWarn; both carry a did-you-mean suggestion when one is close.
// Also warns about duplicates and blackhole without no-export/no-advertise.
Resolution Resolve(std::span<const std::string> entries, const AliasTable& aliases,
                   UnresolvedPolicy policy, std::string_view field, Diagnostics& out);

// Levenshtein distance between two strings.
std::size_t EditDistance(std::string_view a, std::string_view b);

// The closest of `candidates` to `name` if close enough to be a likely typo
// (distance <= max(1, len/3)), or nullopt.
std::optional<std::string> Suggest(std::string_view name,
                                   std::span<const std::string_view> candidates);

}  // namespace bgpcomm::community
