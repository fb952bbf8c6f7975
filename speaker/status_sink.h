// What the Speaker tells about its sessions and its configuration, for the status objects
// (speaker/status_publisher.h writes them to the API). Every call runs on the io_context
// thread; the Speaker works the same without a sink (the --objects mode).
#pragma once

#include <string>
#include <vector>

#include "speaker/adj_rib_out.h"
#include "speaker/desired_routes.h"
#include "speaker/session_fsm.h"

namespace bgpcomm::speaker {

struct PeerPlan;

class StatusSink {
 public:
  virtual ~StatusSink() = default;
  // A session starts for BGPPeer `peer` (metadata.name) with `plan`.
  virtual void PeerAdded(const std::string& peer, const PeerPlan& plan) = 0;
  // Its session stopped for good (the BGPPeer went away, changed or left this node).
  virtual void PeerRemoved(const std::string& peer) = 0;
  virtual void StateChanged(const std::string& peer, SessionState to) = 0;
  // What the peer holds from us now (the Adj-RIB-Out), and the prefixes that entered and
  // left it since the last call (null: the whole table may have changed).
  virtual void Sent(const std::string& peer, const RouteSet& sent,
                    const RibOutput::Membership* membership) = 0;
  virtual void ConnectUnanswered(const std::string& peer) = 0;
  virtual void Error(const std::string& peer, const std::string& error) = 0;
  // The BFD session of this peer's path: Up, Down, Init, AdminDown ("N/A": none).
  virtual void BfdChanged(const std::string& peer, const std::string& state) = 0;
  // After every apply: the advertisements refused and the BGPPeers refused.
  virtual void Applied(const std::vector<RefusedAdvertisement>& refused,
                       const std::vector<std::string>& refused_peers) = 0;
  // True when the sink publishes the Services announced (ServicesAnnounced is called only
  // then: computing them costs).
  virtual bool WantsServices() const = 0;
  // In that apply, after Applied: the Services this node announces (AnnouncedServices'
  // rule). `whole`: every Service announced (any other is not); otherwise only those whose
  // announcement may have changed since the last call, an empty `peers` meaning that the
  // Service is announced no more.
  virtual void ServicesAnnounced(const std::vector<ServiceAnnouncement>& services, bool whole) = 0;
  // The end of that apply: every session it starts has been added.
  virtual void ApplyDone() = 0;
};

}  // namespace bgpcomm::speaker
