// Plain structs for the MetalLB objects bgpcomm judges (metallb.io Community,
// BGPAdvertisement, IPAddressPool v1beta1 and BGPPeer v1beta2). Decoders (YAML in
// manifest/, JSON in webhook/) fill them; the rules read them. Only the fields bgpcomm
// uses are kept. Numbers are int64 so that out-of-range input survives decoding and
// is reported by the rules with its field path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bgpcomm::community {

inline constexpr std::string_view kGroup = "metallb.io";
inline constexpr std::string_view kDefaultNamespace = "metallb-system";

struct ObjectMeta {
  std::string name;
  std::string namespace_name;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

// metav1.LabelSelector.
struct LabelSelectorRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
  bool operator==(const LabelSelectorRequirement&) const = default;
};
struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
  bool operator==(const LabelSelector&) const = default;
};

// Community (metallb.io/v1beta1): spec.communities[] of {name, value}.
struct CommunityAlias {
  std::string name;
  std::string value;
};
struct CommunityObject {
  ObjectMeta meta;
  std::vector<CommunityAlias> aliases;
};

// BGPAdvertisement (metallb.io/v1beta1).
struct Advertisement {
  ObjectMeta meta;
  std::optional<std::int64_t> aggregation_length;     // default 32
  std::optional<std::int64_t> aggregation_length_v6;  // default 128
  std::optional<std::int64_t> local_pref;
  std::vector<std::string> communities;
  std::vector<std::string> ip_address_pools;
  std::vector<LabelSelector> ip_address_pool_selectors;
  std::vector<LabelSelector> node_selectors;
  std::vector<std::string> peers;
};

// IPAddressPool (metallb.io/v1beta1).
struct AddressPool {
  ObjectMeta meta;
  std::vector<std::string> addresses;  // CIDRs or ranges "a-b"
  std::optional<bool> auto_assign;
};

// BGPPeer (metallb.io/v1beta2).
struct Peer {
  ObjectMeta meta;
  std::optional<std::int64_t> my_asn;
  std::optional<std::int64_t> peer_asn;
  std::string dynamic_asn;  // "internal" | "external" | ""
  std::string peer_address;
  std::string source_address;
  std::optional<std::int64_t> peer_port;  // default 179
  std::string hold_time;                  // Go duration, e.g. "90s"
  std::string keepalive_time;
  std::string connect_time;
  std::string router_id;
  std::vector<LabelSelector> node_selectors;
  std::string password;
  std::string password_secret;                    // name of a Secret in the same namespace
  std::optional<std::int64_t> ebgp_multihop_ttl;  // bgpcomm: ebgpMultiHop true -> 255
  bool ebgp_multihop = false;
  bool dual_stack_address_family = false;
  bool disable_mp = false;
  std::string vrf;
};

// Everything of the four kinds in one namespace: the context an admission decision sees.
struct NamespaceObjects {
  std::string namespace_name;
  std::vector<CommunityObject> communities;
  std::vector<Advertisement> advertisements;
  std::vector<AddressPool> pools;
  std::vector<Peer> peers;
};

}  // namespace bgpcomm::community
