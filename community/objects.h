// Plain structs for the MetalLB objects bgpcomm serves: metallb.io Community,
// BGPAdvertisement, IPAddressPool, BFDProfile (v1beta1) and BGPPeer (v1beta2), every
// spec field of MetalLB 0.16.2. Decoders (YAML in manifest/, JSON in objectjson/) fill
// them through the one field table in community/schema.h; the rules, the allocator and the
// speaker read them. Numbers are int64 so that out-of-range input survives decoding and
// is reported by the rules with its field path; an absent optional field is nullopt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bgpcomm::community {

inline constexpr std::string_view kGroup = "metallb.io";
inline constexpr std::string_view kDefaultNamespace = "metallb-system";

struct ObjectMeta {
  std::string name;
  std::string namespace_name;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  bool operator==(const ObjectMeta&) const = default;
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
  bool operator==(const CommunityAlias&) const = default;
};
struct CommunityObject {
  ObjectMeta meta;
  std::vector<CommunityAlias> aliases;  // spec.communities
  bool operator==(const CommunityObject&) const = default;
};

// BGPAdvertisement (metallb.io/v1beta1).
struct Advertisement {
  ObjectMeta meta;
  std::optional<std::int64_t> aggregation_length;     // default 32
  std::optional<std::int64_t> aggregation_length_v6;  // default 128
  std::optional<std::int64_t> local_pref;             // LOCAL_PREF, iBGP only
  std::optional<std::int64_t> as_path_prepend;        // our ASN prepended N more times, 1..10
  std::vector<std::string> communities;
  std::vector<std::string> ip_address_pools;
  std::vector<LabelSelector> ip_address_pool_selectors;
  std::vector<LabelSelector> node_selectors;
  std::vector<std::string> peers;
  std::vector<LabelSelector> service_selectors;  // empty: every Service of the pools
  bool operator==(const Advertisement&) const = default;
};

// IPAddressPool spec.serviceAllocation: which Services may take the pool's addresses.
struct ServiceAllocation {
  std::optional<std::int64_t> priority;  // lower wins; unset or 0: after every pool with one
  std::vector<std::string> namespaces;
  std::vector<LabelSelector> namespace_selectors;
  std::vector<LabelSelector> service_selectors;
  bool operator==(const ServiceAllocation&) const = default;
};

// IPAddressPool (metallb.io/v1beta1).
struct AddressPool {
  ObjectMeta meta;
  std::vector<std::string> addresses;  // CIDRs or ranges "a-b"
  std::optional<bool> auto_assign;     // default true
  bool avoid_buggy_ips = false;        // skip IPv4 addresses ending in .0 and .255
  std::optional<ServiceAllocation> service_allocation;
  bool operator==(const AddressPool&) const = default;
};

// v1.SecretReference.
struct SecretReference {
  std::string name;
  std::string namespace_name;  // MetalLB reads the Secret from its own namespace regardless
  bool operator==(const SecretReference&) const = default;
};

// BGPPeer (metallb.io/v1beta2; v1beta1 objects decode into the same struct).
struct Peer {
  ObjectMeta meta;
  std::optional<std::int64_t> my_asn;
  std::optional<std::int64_t> peer_asn;
  std::optional<std::int64_t> local_asn;  // the ASN this session speaks as (local-as)
  std::string dynamic_asn;                // "internal" | "external" | ""
  std::string peer_address;               // peerAddress and interface exclude each other
  std::string interface;                  // unnumbered BGP over a node interface
  std::string source_address;
  std::optional<std::int64_t> peer_port;  // default 179
  // Go durations as written (community/duration.h parses them); nullopt when absent.
  std::optional<std::string> hold_time;       // default 90s, or 3 x keepaliveTime
  std::optional<std::string> keepalive_time;  // default holdTime / 3
  std::optional<std::string> connect_time;    // whole seconds, 1s..65535s
  std::string router_id;
  std::vector<LabelSelector> node_selectors;
  std::string password;
  SecretReference password_secret;  // name empty: none
  std::string bfd_profile;          // name of a BFDProfile in the same namespace
  bool enable_graceful_restart = false;  // immutable after creation
  bool ebgp_multihop = false;            // eBGP peer more than one hop away (TTL 255)
  std::string vrf;
  bool disable_mp = false;  // deprecated in MetalLB: one family per session
  bool dual_stack_address_family = false;
  bool operator==(const Peer&) const = default;
};

// BFDProfile (metallb.io/v1beta1). Intervals in milliseconds; nullopt: the default.
struct BfdProfile {
  ObjectMeta meta;
  std::optional<std::int64_t> receive_interval;   // 10..60000, default 300
  std::optional<std::int64_t> transmit_interval;  // 10..60000, default 300
  std::optional<std::int64_t> detect_multiplier;  // 2..255, default 3
  std::optional<std::int64_t> echo_interval;      // 10..60000, default 50
  std::optional<bool> echo_mode;                  // default false
  std::optional<bool> passive_mode;               // default false
  std::optional<std::int64_t> minimum_ttl;        // 1..254, multihop only, default 254
  bool operator==(const BfdProfile&) const = default;
};

// A Secret as the rules see it: its type and the keys of its data (never the values).
struct SecretSummary {
  ObjectMeta meta;
  std::string type;
  std::vector<std::string> data_keys;  // keys of data and stringData
  bool operator==(const SecretSummary&) const = default;
};

// A Node as selectors see it.
struct NodeSummary {
  std::string name;
  std::map<std::string, std::string> labels;
  bool operator==(const NodeSummary&) const = default;
};

// core/v1 Service, the fields address allocation and the speaker read (not judged by the
// admission rules; the decoders ignore every other field).
struct ServicePort {
  std::string name;
  std::string protocol;  // "" means TCP
  std::optional<std::int64_t> port;
  bool operator==(const ServicePort&) const = default;
};

struct LoadBalancerIngress {
  std::string ip;
  std::string hostname;
  bool operator==(const LoadBalancerIngress&) const = default;
};

struct LoadBalancerStatus {
  std::vector<LoadBalancerIngress> ingress;
  bool operator==(const LoadBalancerStatus&) const = default;
};

struct ServiceStatus {
  LoadBalancerStatus load_balancer;
  bool operator==(const ServiceStatus&) const = default;
};

struct ServiceObject {
  ObjectMeta meta;
  std::string type;  // "LoadBalancer" is allocated and announced
  std::vector<ServicePort> ports;
  std::map<std::string, std::string> selector;
  std::string load_balancer_ip;  // deprecated spec.loadBalancerIP
  std::optional<std::string> load_balancer_class;
  std::string external_traffic_policy;  // "" means Cluster
  std::vector<std::string> ip_families;
  std::optional<std::string> ip_family_policy;
  ServiceStatus status;
  bool operator==(const ServiceObject&) const = default;
};

// Everything of the served kinds in one namespace: the context an admission decision sees.
struct NamespaceObjects {
  std::string namespace_name;
  std::vector<CommunityObject> communities;
  std::vector<Advertisement> advertisements;
  std::vector<AddressPool> pools;
  std::vector<Peer> peers;
  std::vector<BfdProfile> bfd_profiles;
  // Secrets of the namespace the decision may look at (a lint set's Secrets; empty where
  // they are not read). A passwordSecret naming none of them is not judged.
  std::vector<SecretSummary> secrets;
  // The cluster's Nodes when known; nullopt when not (then selectors are compared as
  // written instead of by the nodes they select).
  std::optional<std::vector<NodeSummary>> nodes;
};

// A read-only sequence of T for the rules: either the elements of a vector, or what the
// elements of a vector of pointers point to (the webhook's cached view keeps the decoded
// objects once and its snapshots hold pointers to them, so that an addition or deletion
// in the middle of a snapshot shifts pointers, not objects). Iterates as const T&.
template <typename T>
class ObjectRange {
 public:
  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;
    iterator() = default;
    iterator(const T* values, const T* const* pointers, std::size_t i)
        : values_(values), pointers_(pointers), i_(i) {}
    reference operator*() const { return pointers_ ? *pointers_[i_] : values_[i_]; }
    pointer operator->() const { return &**this; }
    reference operator[](difference_type n) const { return *(*this + n); }
    iterator& operator++() { ++i_; return *this; }
    iterator operator++(int) { iterator old = *this; ++i_; return old; }
    iterator& operator--() { --i_; return *this; }
    iterator operator--(int) { iterator old = *this; --i_; return old; }
    iterator& operator+=(difference_type n) { i_ += n; return *this; }
    iterator& operator-=(difference_type n) { i_ -= n; return *this; }
    friend iterator operator+(iterator it, difference_type n) { return it += n; }
    friend iterator operator+(difference_type n, iterator it) { return it += n; }
    friend iterator operator-(iterator it, difference_type n) { return it -= n; }
    friend difference_type operator-(const iterator& a, const iterator& b) {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const iterator& a, const iterator& b) { return a.i_ <=> b.i_; }

   private:
    const T* values_ = nullptr;
    const T* const* pointers_ = nullptr;
    std::size_t i_ = 0;
  };
  using const_iterator = iterator;
  using value_type = T;

  ObjectRange() = default;
  ObjectRange(const std::vector<T>& values)  // NOLINT(google-explicit-constructor)
      : values_(values.data()), size_(values.size()) {}
  ObjectRange(const std::vector<const T*>& pointers)  // NOLINT(google-explicit-constructor)
      : pointers_(pointers.data()), size_(pointers.size()) {}

  iterator begin() const { return {values_, pointers_, 0}; }
  iterator end() const { return {values_, pointers_, size_}; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](std::size_t i) const { return begin()[static_cast<std::ptrdiff_t>(i)]; }
  const T& front() const { return (*this)[0]; }
  const T& back() const { return (*this)[size_ - 1]; }

 private:
  const T* values_ = nullptr;
  const T* const* pointers_ = nullptr;
  std::size_t size_ = 0;
};

// What a decision reads of one namespace: NamespaceObjects' fields, the four kinds the
// webhook caches as ObjectRanges. Refers to the objects it was made from, which must
// outlive it.
struct NamespaceView {
  NamespaceView(const NamespaceObjects& objects)  // NOLINT(google-explicit-constructor)
      : namespace_name(objects.namespace_name),
        communities(objects.communities),
        advertisements(objects.advertisements),
        pools(objects.pools),
        peers(objects.peers),
        bfd_profiles(objects.bfd_profiles),
        secrets(objects.secrets),
        nodes(objects.nodes) {}
  NamespaceView(const std::string& namespace_name, ObjectRange<CommunityObject> communities,
                ObjectRange<Advertisement> advertisements, ObjectRange<AddressPool> pools,
                ObjectRange<Peer> peers, const NamespaceObjects& rest)
      : namespace_name(namespace_name),
        communities(communities),
        advertisements(advertisements),
        pools(pools),
        peers(peers),
        bfd_profiles(rest.bfd_profiles),
        secrets(rest.secrets),
        nodes(rest.nodes) {}

  const std::string& namespace_name;
  ObjectRange<CommunityObject> communities;
  ObjectRange<Advertisement> advertisements;
  ObjectRange<AddressPool> pools;
  ObjectRange<Peer> peers;
  const std::vector<BfdProfile>& bfd_profiles;
  const std::vector<SecretSummary>& secrets;
  const std::optional<std::vector<NodeSummary>>& nodes;
};

}  // namespace bgpcomm::community
