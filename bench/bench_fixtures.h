// Generated objects for the benchmarks: a namespace with many aliases and
// advertisements, as structs and as manifest text.
#pragma once

#include <string>

#include "community/objects.h"

namespace bgpcomm::bench {

inline std::string AliasName(int i) { return "alias-" + std::to_string(i); }

// One Community holding `aliases` aliases alias-0.. (standard and large values mixed),
// and the pool production-pool.
inline community::NamespaceObjects NamespaceWithAliases(int aliases) {
  community::NamespaceObjects objects{.namespace_name = "metallb-system"};
  community::CommunityObject community{
      .meta = {.name = "many", .namespace_name = "metallb-system"}};
  for (int i = 0; i < aliases; ++i) {
    std::string value = i % 2 == 0 ? "64512:" + std::to_string(i % 65536)
                                   : "large:64512:" + std::to_string(i) + ":1";
    community.aliases.push_back({AliasName(i), value});
  }
  objects.communities.push_back(std::move(community));
  objects.pools.push_back({.meta = {.name = "production-pool", .namespace_name = "metallb-system"},
                           .addresses = {"203.0.113.0/24"}});
  return objects;
}

// An advertisement referencing `entries` aliases spread over the table.
inline community::Advertisement AdvertisementOf(int entries, int aliases, int salt = 0) {
  community::Advertisement advertisement{
      .meta = {.name = "advert-" + std::to_string(salt), .namespace_name = "metallb-system"},
      .aggregation_length = 32,
      .ip_address_pools = {"production-pool"}};
  for (int i = 0; i < entries; ++i) {
    advertisement.communities.push_back(AliasName((salt * 7919 + i * 997) % aliases));
  }
  return advertisement;
}

// Manifests: a Community with `aliases` aliases, a pool, and `advertisements`
// advertisements of `entries` entries each, as multi-document YAML.
inline std::string ManifestText(int aliases, int advertisements, int entries) {
  std::string text =
      "apiVersion: metallb.io/v1beta1\nkind: Community\nmetadata:\n  name: many\n"
      "  namespace: metallb-system\nspec:\n  communities:\n";
  for (int i = 0; i < aliases; ++i) {
    text += "    - name: " + AliasName(i) + "\n      value: \"64512:" + std::to_string(i % 65536) +
            "\"\n";
  }
  text +=
      "---\napiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n"
      "  name: production-pool\n  namespace: metallb-system\nspec:\n  addresses:\n"
      "    - 203.0.113.0/24\n";
  for (int a = 0; a < advertisements; ++a) {
    text +=
        "---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata:\n  name: advert-" +
        std::to_string(a) +
        "\n  namespace: metallb-system\nspec:\n  ipAddressPools:\n    - production-pool\n"
        "  nodeSelectors:\n    - matchLabels:\n        rack: r" +
        std::to_string(a) + "\n  communities:\n";
    for (int i = 0; i < entries; ++i) {
      text += "    - " + AliasName((a * 7919 + i * 997) % aliases) + "\n";
    }
  }
  return text;
}

}  // namespace bgpcomm::bench
