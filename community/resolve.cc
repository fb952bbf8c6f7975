#include "community/resolve.h"

#include <algorithm>
#include <string>
#include <vector>

#include "community/well_known.h"

namespace bgpcomm::community {
namespace {

constexpr std::size_t kMaxSuggestLength = 253;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Lower(c);
  return out;
}

// The entry as a message shows it: quoted, with its value when the text is not the value.
std::string Describe(std::string_view entry, const CommunityValue& value) {
  std::string canonical = Format(value);
  if (entry == canonical) return Quote(entry);
  return Quote(entry) + " (" + canonical + ")";
}

std::string Path(std::string_view field, std::size_t index) {
  return std::string(field) + "[" + std::to_string(index) + "]";
}

}  // namespace

std::optional<CommunityValue> ResolveEntry(std::string_view entry, const AliasTable& aliases) {
  if (LooksLikeLiteral(entry)) {
    auto parsed = ParseLiteral(entry);
    if (!parsed) return std::nullopt;
    return parsed->value;
  }
  if (const AliasEntry* alias = aliases.Find(entry)) return alias->value;
  if (auto known = LookupWellKnown(entry)) return CommunityValue{*known};
  return std::nullopt;
}

Resolution Resolve(std::span<const std::string> entries, const AliasTable& aliases,
                   UnresolvedPolicy policy, std::string_view field, Diagnostics& out,
                   std::string_view namespace_name) {
  Resolution resolution;
  resolution.from.assign(entries.begin(), entries.end());
  std::vector<CommunityValue> values;       // parallel to resolution.communities
  std::vector<std::size_t> first_index;     // entry index that gave each value
  std::optional<std::size_t> blackhole_at;  // entry index of a resolved 65535:666
  bool has_no_export_or_advertise = false;

  std::vector<std::string_view> candidates;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string& entry = entries[i];
    auto path = [&] { return Path(field, i); };  // built only for a diagnostic
    std::optional<CommunityValue> value;
    if (LooksLikeLiteral(entry)) {
      auto parsed = ParseLiteral(entry);
      if (!parsed) {
        out.Error(path(), parsed.error());
        continue;
      }
      value = parsed->value;
      if (!parsed->canonical) out.Warning(path(), Quote(entry) + " is stored as " + Format(*value));
    } else {
      value = ResolveEntry(entry, aliases);
    }

    if (!value) {
      if (entry.empty()) {
        out.Error(path(), "empty entry; expected A:B, large:A:B:C, a well-known name or an alias");
        continue;
      }
      std::string message = Quote(entry) +
                            " is not a community value, well-known name or alias defined in " +
                            (namespace_name.empty() ? std::string("this namespace")
                                                    : "namespace " + std::string(namespace_name));
      if (std::all_of(entry.begin(), entry.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        message += "; a standard community is written A:B, e.g. 64512:" + entry;
      }
      if (policy == UnresolvedPolicy::kWarn) {
        message += "; it stays unresolved until a Community defines it";
      }
      if (candidates.empty()) {
        candidates = aliases.Names();
        for (const auto& known : WellKnownCommunities()) candidates.push_back(known.name);
      }
      if (auto suggestion = Suggest(entry, candidates)) {
        message += "; did you mean \"" + *suggestion + "\"?";
      }
      if (policy == UnresolvedPolicy::kWarn) {
        out.Warning(path(), message);
        if (std::find(resolution.unresolved.begin(), resolution.unresolved.end(), entry) ==
            resolution.unresolved.end()) {
          resolution.unresolved.push_back(entry);
        }
      } else {
        out.Error(path(), message);
      }
      continue;
    }

    if (const auto* standard = std::get_if<StandardCommunity>(&*value)) {
      if (auto warning = RangeWarning(*standard)) {
        out.Warning(path(), entry == Format(*value) ? *warning : Quote(entry) + ": " + *warning);
      }
      if (*standard == kBlackhole && !blackhole_at) blackhole_at = i;
      if (*standard == kNoExport || *standard == kNoAdvertise) has_no_export_or_advertise = true;
    }

    auto seen = std::find(values.begin(), values.end(), *value);
    if (seen != values.end()) {
      std::size_t first = first_index[static_cast<std::size_t>(seen - values.begin())];
      out.Warning(path(), Describe(entry, *value) + " duplicates " + Path(field, first) +
                            "; it is announced once");
      continue;
    }
    values.push_back(*value);
    first_index.push_back(i);
    resolution.communities.push_back(Format(*value));
  }

  if (blackhole_at && !has_no_export_or_advertise) {
    out.Warning(Path(field, *blackhole_at),
                Describe(entries[*blackhole_at], kBlackhole) +
                    " is not combined with no-export or no-advertise; RFC 7999 §3.2 asks for "
                    "one so that the blackholed prefix does not propagate further");
  }
  return resolution;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> Suggest(std::string_view name,
                                   std::span<const std::string_view> candidates) {
  // Case is ignored: "No-Export" is a typo of "no-export", not a different word.
  // Names far longer than any Kubernetes name are not typos; this also bounds the work
  // that untrusted input can cause.
  if (name.size() > kMaxSuggestLength) return std::nullopt;
  const std::string lowered = ToLower(name);
  const std::size_t limit = std::max<std::size_t>(1, name.size() / 3);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    if (candidate.size() > kMaxSuggestLength) continue;
    // Cheap bound: the distance is at least the difference in length.
    std::size_t gap = candidate.size() > name.size() ? candidate.size() - name.size()
                                                     : name.size() - candidate.size();
    if (gap >= best_distance) continue;
    std::size_t distance = EditDistance(lowered, ToLower(candidate));
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  return best;
}

}  // namespace bgpcomm::community
