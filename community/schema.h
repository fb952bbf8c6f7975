// The metallb.io schema as one field table: for each struct of community/objects.h, the
// JSON name of every field and the member it fills. The YAML decoder (manifest/) and the
// JSON decoder (objectjson/) both walk these tables, so a field is added here once and
// both read it the same way.
//
// A table is a function template `VisitFields(visitor, object)` that calls
// `visitor.Field("jsonName", object.member)` for every field, in the order of MetalLB's
// types. A visitor supports these member types: std::string, std::optional<std::string>,
// std::optional<std::int64_t>, bool, std::optional<bool>, std::vector<std::string>,
// std::map<std::string, std::string>, any struct with a VisitFields table, and
// std::optional / std::vector of such structs. A kind's table covers its `spec`; its
// metadata is ObjectMeta's table.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "community/objects.h"

namespace bgpcomm::community {

template <typename Visitor>
void VisitFields(Visitor& v, ObjectMeta& m) {
  v.Field("name", m.name);
  v.Field("namespace", m.namespace_name);
  v.Field("labels", m.labels);
  v.Field("annotations", m.annotations);
}

template <typename Visitor>
void VisitFields(Visitor& v, LabelSelectorRequirement& r) {
  v.Field("key", r.key);
  v.Field("operator", r.op);
  v.Field("values", r.values);
}

template <typename Visitor>
void VisitFields(Visitor& v, LabelSelector& s) {
  v.Field("matchLabels", s.match_labels);
  v.Field("matchExpressions", s.match_expressions);
}

template <typename Visitor>
void VisitFields(Visitor& v, CommunityAlias& a) {
  v.Field("name", a.name);
  v.Field("value", a.value);
}

template <typename Visitor>
void VisitFields(Visitor& v, CommunityObject& c) {
  v.Field("communities", c.aliases);
}

template <typename Visitor>
void VisitFields(Visitor& v, Advertisement& a) {
  v.Field("aggregationLength", a.aggregation_length);
  v.Field("aggregationLengthV6", a.aggregation_length_v6);
  v.Field("localPref", a.local_pref);
  v.Field("asPathPrepend", a.as_path_prepend);
  v.Field("communities", a.communities);
  v.Field("ipAddressPools", a.ip_address_pools);
  v.Field("ipAddressPoolSelectors", a.ip_address_pool_selectors);
  v.Field("nodeSelectors", a.node_selectors);
  v.Field("peers", a.peers);
  v.Field("serviceSelectors", a.service_selectors);
}

template <typename Visitor>
void VisitFields(Visitor& v, ServiceAllocation& s) {
  v.Field("priority", s.priority);
  v.Field("namespaces", s.namespaces);
  v.Field("namespaceSelectors", s.namespace_selectors);
  v.Field("serviceSelectors", s.service_selectors);
}

template <typename Visitor>
void VisitFields(Visitor& v, AddressPool& p) {
  v.Field("addresses", p.addresses);
  v.Field("autoAssign", p.auto_assign);
  v.Field("avoidBuggyIPs", p.avoid_buggy_ips);
  v.Field("serviceAllocation", p.service_allocation);
}

template <typename Visitor>
void VisitFields(Visitor& v, SecretReference& r) {
  v.Field("name", r.name);
  v.Field("namespace", r.namespace_name);
}

template <typename Visitor>
void VisitFields(Visitor& v, Peer& p) {
  v.Field("myASN", p.my_asn);
  v.Field("peerASN", p.peer_asn);
  v.Field("localASN", p.local_asn);
  v.Field("dynamicASN", p.dynamic_asn);
  v.Field("peerAddress", p.peer_address);
  v.Field("interface", p.interface);
  v.Field("sourceAddress", p.source_address);
  v.Field("peerPort", p.peer_port);
  v.Field("holdTime", p.hold_time);
  v.Field("keepaliveTime", p.keepalive_time);
  v.Field("connectTime", p.connect_time);
  v.Field("routerID", p.router_id);
  v.Field("nodeSelectors", p.node_selectors);
  v.Field("password", p.password);
  v.Field("passwordSecret", p.password_secret);
  v.Field("bfdProfile", p.bfd_profile);
  v.Field("enableGracefulRestart", p.enable_graceful_restart);
  v.Field("ebgpMultiHop", p.ebgp_multihop);
  v.Field("vrf", p.vrf);
  v.Field("disableMP", p.disable_mp);
  v.Field("dualStackAddressFamily", p.dual_stack_address_family);
}

template <typename Visitor>
void VisitFields(Visitor& v, BfdProfile& p) {
  v.Field("receiveInterval", p.receive_interval);
  v.Field("transmitInterval", p.transmit_interval);
  v.Field("detectMultiplier", p.detect_multiplier);
  v.Field("echoInterval", p.echo_interval);
  v.Field("echoMode", p.echo_mode);
  v.Field("passiveMode", p.passive_mode);
  v.Field("minimumTtl", p.minimum_ttl);
}

template <typename Visitor>
void VisitFields(Visitor& v, ServicePort& p) {
  v.Field("name", p.name);
  v.Field("protocol", p.protocol);
  v.Field("port", p.port);
}

template <typename Visitor>
void VisitFields(Visitor& v, LoadBalancerIngress& i) {
  v.Field("ip", i.ip);
  v.Field("hostname", i.hostname);
}

template <typename Visitor>
void VisitFields(Visitor& v, LoadBalancerStatus& s) {
  v.Field("ingress", s.ingress);
}

template <typename Visitor>
void VisitFields(Visitor& v, ServiceStatus& s) {
  v.Field("loadBalancer", s.load_balancer);
}

// A Service's table covers its spec; `status` is ServiceStatus's table.
template <typename Visitor>
void VisitFields(Visitor& v, ServiceObject& s) {
  v.Field("type", s.type);
  v.Field("ports", s.ports);
  v.Field("selector", s.selector);
  v.Field("loadBalancerIP", s.load_balancer_ip);
  v.Field("loadBalancerClass", s.load_balancer_class);
  v.Field("externalTrafficPolicy", s.external_traffic_policy);
  v.Field("ipFamilies", s.ip_families);
  v.Field("ipFamilyPolicy", s.ip_family_policy);
}

// The kinds with a table, with the apiVersion bgpcomm serves them in.
template <typename T>
struct KindTraits;
template <>
struct KindTraits<CommunityObject> {
  static constexpr std::string_view kKind = "Community";
  static constexpr std::string_view kVersion = "v1beta1";
};
template <>
struct KindTraits<Advertisement> {
  static constexpr std::string_view kKind = "BGPAdvertisement";
  static constexpr std::string_view kVersion = "v1beta1";
};
template <>
struct KindTraits<AddressPool> {
  static constexpr std::string_view kKind = "IPAddressPool";
  static constexpr std::string_view kVersion = "v1beta1";
};
template <>
struct KindTraits<Peer> {
  static constexpr std::string_view kKind = "BGPPeer";
  static constexpr std::string_view kVersion = "v1beta2";
};
template <>
struct KindTraits<BfdProfile> {
  static constexpr std::string_view kKind = "BFDProfile";
  static constexpr std::string_view kVersion = "v1beta1";
};

// Finds the table entry named `key` in `object`'s table and hands it to `read(member)`
// (a generic callable). Returns false when the table has no such field. The decoders walk
// an input mapping in its own order and call this for each key, so problems come out in
// the order the user wrote the fields.
namespace schema_detail {
template <typename Read>
struct Matcher {
  std::string_view key;
  Read& read;
  bool found = false;
  template <typename Member>
  void Field(std::string_view name, Member& member) {
    if (found || name != key) return;
    found = true;
    read(member);
  }
};
}  // namespace schema_detail

template <typename T, typename Read>
bool ReadField(T& object, std::string_view key, Read&& read) {
  schema_detail::Matcher<std::remove_reference_t<Read>> matcher{key, read};
  VisitFields(matcher, object);
  return matcher.found;
}

// `spec` + `communities` -> `spec.communities`; keys that are not identifiers (annotation
// names such as `bgpcomm.io/resolved-communities`) are bracketed: `metadata.annotations[a/b]`.
std::string ChildPath(std::string_view parent, std::string_view key);

// `spec.communities` + 2 -> `spec.communities[2]`.
std::string IndexPath(std::string_view parent, std::size_t index);

}  // namespace bgpcomm::community
