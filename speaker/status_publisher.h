// The Kubernetes mode's status objects (a StatusSink): one BGPSessionState per BGPPeer of
// this node, this speaker's ConfigurationState, and, when asked, MetalLB's per-node
// ServiceBGPStatus. What to write comes from the pure speaker/status_core.h; the writes go
// through kube::StatusWriter, at most once per interval per object:
//   state_interval     a session's state, error or BFD changed, the configuration result
//   prefixes_interval  only the prefixes sent changed (a Service came or went)
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "kube/status_writer.h"
#include "speaker/status_core.h"
#include "speaker/status_sink.h"

namespace bgpcomm::speaker {

struct StatusPublisherOptions {
  std::string namespace_name;
  std::string node_name;
  std::chrono::milliseconds state_interval{std::chrono::seconds(5)};
  std::chrono::milliseconds prefixes_interval{std::chrono::seconds(30)};
  // MetalLB's exact ServiceBGPStatus, one object per node and Service announced.
  bool service_status = false;
};

// The ConfigurationState of the speaker on `node`.
std::string SpeakerConfigurationName(const std::string& node);

class StatusPublisher final : public StatusSink {
 public:
  // `writer` must outlive the publisher.
  StatusPublisher(kube::StatusWriter& writer, StatusPublisherOptions options);

  // Marks what an earlier run of this node's speaker left (deleted unless still true).
  void Adopt();

  void PeerAdded(const std::string& peer, const PeerPlan& plan) override;
  void PeerRemoved(const std::string& peer) override;
  void StateChanged(const std::string& peer, SessionState to) override;
  void Sent(const std::string& peer, const RouteSet& sent,
            const RibOutput::Membership* membership) override;
  void ConnectUnanswered(const std::string& peer) override;
  void Error(const std::string& peer, const std::string& error) override;
  void BfdChanged(const std::string& peer, const std::string& state) override;
  void Applied(const std::vector<RefusedAdvertisement>& refused,
               const std::vector<std::string>& refused_peers) override;
  bool WantsServices() const override { return options_.service_status; }
  void ServicesAnnounced(const std::vector<ServiceAnnouncement>& services, bool whole) override;
  void ApplyDone() override;

 private:
  void Publish(const std::string& peer, bool urgent);

  kube::StatusWriter& writer_;
  StatusPublisherOptions options_;
  std::map<std::string, status::SessionStatus> sessions_;
  status::ConfigurationStatus configuration_;
  std::map<std::string, std::string> services_;  // object name -> namespace/name published
  bool released_ = false;
};

}  // namespace bgpcomm::speaker
