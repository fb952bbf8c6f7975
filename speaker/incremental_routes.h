// The desired routes of ComputeDesiredRoutes kept up to date object by object, for the
// Kubernetes mode: a change to one Service, EndpointSlice, IPAddressPool,
// BGPAdvertisement, BGPPeer or the Node recomputes only the Services whose routes it can
// affect, and reports only the routes that changed, per peer. Pure (no I/O, one thread).
//
// At every Commit() the state equals ComputeDesiredRoutes over the same objects (pools in
// (namespace, name) order, the first pool containing an address wins):
// unit/speaker/incremental_routes_test.cc compares the two after every step of long random
// event sequences.
//
// What a change recomputes:
// - a Service: its own routes;
// - an EndpointSlice: its Service's routes, when the slice changes whether that Service has
//   a ready endpoint on this node;
// - an IPAddressPool: the Services with an address inside the pool's old or new addresses;
// - a BGPAdvertisement: the Services with an address inside the pools it selected before or
//   selects now;
// - the BGPPeers or the Node: the Services in the pools of every advertisement whose node
//   selection or peers changed (a password or timer change recomputes no route).
// Objects are held by shared pointer: the informers' decoded objects are not copied.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "speaker/adj_rib_out.h"
#include "speaker/desired_routes.h"

namespace bgpcomm::speaker {

class IncrementalRoutes {
 public:
  IncrementalRoutes();
  ~IncrementalRoutes();
  IncrementalRoutes(const IncrementalRoutes&) = delete;
  IncrementalRoutes& operator=(const IncrementalRoutes&) = delete;

  // Changes are recorded; Commit() recomputes what they affect (a burst of changes is
  // recomputed once).
  void SetService(std::shared_ptr<const Service> service);
  void RemoveService(std::string_view ns, std::string_view name);
  void SetEndpointSlice(std::shared_ptr<const EndpointSlice> slice);
  void RemoveEndpointSlice(std::string_view ns, std::string_view name);
  void SetPool(std::shared_ptr<const community::AddressPool> pool);
  void RemovePool(std::string_view ns, std::string_view name);
  // `decode_error` non-empty: the advertisement did not decode; it is refused (kInvalid)
  // with that reason and announces nothing.
  void SetAdvertisement(std::shared_ptr<const community::Advertisement> advertisement,
                        std::string decode_error = {});
  void RemoveAdvertisement(std::string_view ns, std::string_view name);
  // Every BGPPeer at once (few; their passwords are read again on each apply). Unchanged
  // peers change nothing.
  void SetPeers(std::vector<community::Peer> peers);
  // The Node; the same labels change nothing.
  void SetNode(Node node);

  // Recomputes what changed since the last Commit().
  void Commit();

  // As of the last Commit():
  // The BGPPeers as last set (with their passwords), in (namespace, name) order.
  const std::vector<community::Peer>& peers() const;
  // True when a BGPPeer of that name is selected for this node (ComputeDesiredRoutes'
  // by_peer holds it).
  bool Selected(std::string_view peer) const;
  // The routes of one peer (empty when not selected).
  RouteSet RoutesOf(std::string_view peer) const;
  // Every selected peer's routes and the refused advertisements: ComputeDesiredRoutes'
  // result (refusals in (namespace, name) order).
  DesiredRoutes Desired() const;
  std::vector<RefusedAdvertisement> Refused() const;
  // By peer name, the routes that changed since the last call (each prefix once, in
  // prefix order, with its current attributes or nullopt when withdrawn). Peers that
  // stopped being selected get their withdrawals too.
  std::map<std::string, std::vector<RouteChange>> TakeChanges();

  // ServiceBGPStatus: every Service announced (AnnouncedServices' rule over Desired()), in
  // (namespace, name) order. From this call on, Commit() also notes the Services whose
  // announcement a change can affect (those recomputed, and those with an address inside
  // a route that changed), for TakeAnnouncementChanges(); before it, nothing is noted
  // (the first load pays nothing for it).
  std::vector<ServiceAnnouncement> Announcements();
  // The Services noted since the last call, with their current peers (none: not
  // announced, or gone), in (namespace, name) order.
  std::vector<ServiceAnnouncement> TakeAnnouncementChanges();

  // Sizes, for tests and benchmarks: Services recomputed by the last Commit().
  std::size_t last_recomputed() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace bgpcomm::speaker
