// The aliases defined by the Communities of one namespace.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "community/objects.h"
#include "community/value.h"

namespace bgpcomm::community {

struct AliasEntry {
  std::string name;
  CommunityValue value;
  std::string owner;  // name of the Community object that defines it
  bool operator==(const AliasEntry&) const = default;
};

// A name -> value table for one namespace, built from its Community objects. Invalid
// values are left out (the Community admission rule reports them); for a name defined
// more than once the first definition (by object name, then position) wins.
class AliasTable {
 public:
  AliasTable() = default;
  static AliasTable Build(std::span<const CommunityObject> communities);

  // The entry for an alias name, or nullptr.
  const AliasEntry* Find(std::string_view name) const;
  std::size_t size() const { return entries_.size(); }
  // Every alias name, for suggestions.
  std::vector<std::string_view> Names() const;

  // Sets the entry of `entry.name` / removes the entry of `name`: for a table kept current
  // event by event by a caller that applies Build()'s precedence itself.
  void Put(AliasEntry entry);
  void Erase(std::string_view name);

 private:
  std::unordered_map<std::string, AliasEntry> entries_;
};

}  // namespace bgpcomm::community
