// The bgpcomm.io/resolved-communities annotation: what bgpcomm stores on every admitted
// BGPAdvertisement and what the speaker announces from.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "community/alias_table.h"
#include "community/objects.h"
#include "community/resolve.h"
#include "community/value.h"

namespace bgpcomm::community {

inline constexpr std::string_view kResolvedAnnotation = "bgpcomm.io/resolved-communities";

enum class ExpandMode { kAnnotation, kInPlace };

// Compact JSON with keys in the order from, communities, unresolved (the last only when
// non-empty): {"from":["primary-route"],"communities":["64512:100"]}.
std::string EncodeAnnotation(const Resolution& resolution);
// Parses an annotation value; a message says what is wrong with it.
std::expected<Resolution, std::string> DecodeAnnotation(std::string_view text);

// What bgpcomm stores for an advertisement.
struct StoredCommunities {
  std::vector<std::string> spec_communities;  // spec.communities after admission
  Resolution resolution;                      // the annotation's content

  // The annotation's value, EncodeAnnotation(resolution): encoded only by those who store
  // it (the mutating endpoint, the resolver), not on every validation.
  std::string Annotation() const { return EncodeAnnotation(resolution); }
};

// Computes what to store for `submitted`. The entries resolved are spec.communities,
// except in kInPlace mode where spec.communities equals the `communities` of the
// annotation already on `submitted` or on `old` (an in-place expansion being read back and
// written again): then that annotation's `from`. In kAnnotation mode spec.communities is
// always what the user wrote, so replacing an alias by its literal value really changes
// `from`. In kInPlace mode spec_communities becomes the canonical values, de-duplicated
// (unresolved entries stay as written); otherwise it is unchanged. Resolution problems go
// to `out` with paths spec.communities[i] and name submitted's namespace.
StoredCommunities ComputeStored(const Advertisement& submitted, const Advertisement* old,
                                const AliasTable& aliases, UnresolvedPolicy policy, ExpandMode mode,
                                Diagnostics& out);

// The entries an advertisement references: the annotation's `from` when the annotation
// is present and spec.communities equals its `communities` (in-place), else
// spec.communities.
std::vector<std::string> ReferencedEntries(const Advertisement& advertisement);

// Why an advertisement announces nothing (fail closed).
enum class RefusalKind { kMissing, kUnreadable, kStale, kUnresolved, kInvalid };
// The metric label of a kind: missing, unreadable, stale, unresolved, invalid.
std::string_view RefusalKindName(RefusalKind kind);

// A refusal: its kind for metrics and Events, and the message for people.
struct Refusal {
  RefusalKind kind = RefusalKind::kInvalid;
  std::string message;
  bool operator==(const Refusal&) const = default;
};

// The communities the speaker may announce for `advertisement`, or the reason it must
// announce nothing: annotation missing or unreadable, stale (spec.communities equals
// neither `from` nor `communities`), or with unresolved entries.
std::expected<std::vector<CommunityValue>, Refusal> AnnouncedCommunities(
    const Advertisement& advertisement);

}  // namespace bgpcomm::community
