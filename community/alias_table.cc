#include "community/alias_table.h"

#include <algorithm>

namespace bgpcomm::community {

AliasTable AliasTable::Build(std::span<const CommunityObject> communities) {
  std::vector<const CommunityObject*> ordered;
  for (const auto& object : communities) ordered.push_back(&object);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto* a, const auto* b) { return a->meta.name < b->meta.name; });
  AliasTable table;
  for (const auto* object : ordered) {
    for (const auto& alias : object->aliases) {
      // Names that are empty or look like literals can never be looked up as aliases.
      if (alias.name.empty() || LooksLikeLiteral(alias.name)) continue;
      if (table.entries_.contains(alias.name)) continue;
      auto parsed = ParseValue(alias.value);
      if (!parsed) continue;
      table.entries_.emplace(alias.name, AliasEntry{alias.name, parsed->value, object->meta.name});
    }
  }
  return table;
}

const AliasEntry* AliasTable::Find(std::string_view name) const {
  auto it = entries_.find(std::string(name));
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string_view> AliasTable::Names() const {
  std::vector<std::string_view> names;
  names.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) names.push_back(entry.name);
  std::sort(names.begin(), names.end());
  return names;
}

void AliasTable::Put(AliasEntry entry) {
  std::string name = entry.name;
  entries_.insert_or_assign(std::move(name), std::move(entry));
}

void AliasTable::Erase(std::string_view name) { entries_.erase(std::string(name)); }

}  // namespace bgpcomm::community
