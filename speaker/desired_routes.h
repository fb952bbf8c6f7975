// What this node announces to each of its peers, computed from the objects alone (MetalLB
// semantics). Pure: the --objects mode and the Kubernetes mode both call it.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "community/annotation.h"
#include "community/objects.h"
#include "speaker/adj_rib_out.h"

namespace bgpcomm::speaker {

// A Service (v1), only the fields the speaker reads.
struct Service {
  std::string name;
  std::string namespace_name;
  std::string type;                      // "LoadBalancer" is announced
  std::string external_traffic_policy;   // "Local" needs a ready endpoint on this node
  std::vector<std::string> ingress_ips;  // status.loadBalancer.ingress[].ip
  std::map<std::string, std::string> labels;  // metadata.labels, for serviceSelectors
  bool operator==(const Service&) const = default;
};

// One endpoint of an EndpointSlice (discovery.k8s.io/v1).
struct Endpoint {
  std::vector<std::string> addresses;
  std::optional<bool> ready;  // conditions.ready; unset counts as ready (API contract)
  std::string node_name;
  bool operator==(const Endpoint&) const = default;
};

struct EndpointSlice {
  std::string name;
  std::string namespace_name;
  std::string service_name;  // label kubernetes.io/service-name
  std::vector<Endpoint> endpoints;
  bool operator==(const EndpointSlice&) const = default;
};

struct Node {
  std::string name;
  std::map<std::string, std::string> labels;
  bool operator==(const Node&) const = default;
};

struct SpeakerObjects {
  std::vector<Service> services;
  std::vector<EndpointSlice> endpoint_slices;
  std::vector<community::AddressPool> pools;
  std::vector<community::Advertisement> advertisements;  // with their resolution annotation
  std::vector<community::Peer> peers;
  std::vector<community::BfdProfile> bfd_profiles;  // what the peers' bfdProfile names
  Node node;
};

// An advertisement that announces nothing, and why (fail closed).
struct RefusedAdvertisement {
  std::string namespace_name;
  std::string name;
  std::string reason;
  community::RefusalKind kind = community::RefusalKind::kInvalid;
  bool operator==(const RefusedAdvertisement&) const = default;
};

struct DesiredRoutes {
  // Every BGPPeer selected for this node, by metadata.name, with its routes (possibly none).
  std::map<std::string, RouteSet> by_peer;
  std::vector<RefusedAdvertisement> refused;
};

// For each LoadBalancer service IP in a pool (the first pool whose addresses contain it),
// each advertisement that selects that pool (ipAddressPools by name or
// ipAddressPoolSelectors; neither selects every pool) and this node (nodeSelectors; none
// selects every node) and, when it has serviceSelectors, the Service (any selector matches
// its labels) announces IP/aggregationLength (aggregationLengthV6 for IPv6) to its
// peers (`peers` by name; none: every peer selected for this node), with asPathPrepend. With
// externalTrafficPolicy Local the IP is announced only when an EndpointSlice of the service
// has a ready endpoint on this node. Advertisements announce only what
// community::AnnouncedCommunities allows; the others are refused with its reason. Several
// advertisements for the same prefix and peer merge: communities are the union in numeric
// order, LOCAL_PREF and asPathPrepend the highest one set (admission denies two that differ). Pools, peers and advertisements refer to each other
// within one namespace.
DesiredRoutes ComputeDesiredRoutes(const SpeakerObjects& objects);

// A Service this node announces, and to which BGPPeers (sorted names).
struct ServiceAnnouncement {
  std::string namespace_name;
  std::string name;
  std::vector<std::string> peers;
  bool operator==(const ServiceAnnouncement&) const = default;
};

// The LoadBalancer Services of `objects` with an address covered by a route of `desired`
// (per peer: the address truncated to one of the lengths of that peer's routes is one of
// them), in namespace/name order (ServiceBGPStatus).
std::vector<ServiceAnnouncement> AnnouncedServices(const SpeakerObjects& objects,
                                                   const DesiredRoutes& desired);

// The rules ComputeDesiredRoutes applies, one object at a time (shared with
// incremental_routes.h).

// What an accepted advertisement puts on its routes.
struct AdvertisedAttributes {
  std::vector<StandardCommunity> communities;     // sorted, no duplicates
  std::vector<LargeCommunity> large_communities;  // sorted, no duplicates
  std::optional<std::uint32_t> local_pref;
  std::uint8_t as_path_prepend = 0;
  int length_v4 = 32;
  int length_v6 = 128;
  bool operator==(const AdvertisedAttributes&) const = default;
};
// The advertisement's attributes, or why it announces nothing (fail closed).
std::expected<AdvertisedAttributes, RefusedAdvertisement> AcceptAdvertisement(
    const community::Advertisement& adv);
// MetalLB: no selectors select every node; otherwise any one of them must match.
bool SelectsNode(const std::vector<community::LabelSelector>& selectors, const Node& node);
// Same namespace, and ipAddressPools by name or ipAddressPoolSelectors (neither: every pool).
bool SelectsPool(const community::Advertisement& adv, const community::AddressPool& pool);
// No serviceSelectors, or one of them matches the Service's labels.
bool SelectsService(const community::Advertisement& adv, const Service& service);
// The slice has a ready endpoint with an address on `node`.
bool ServiceReadyOn(const EndpointSlice& slice, const Node& node);

}  // namespace bgpcomm::speaker
