// The speaker process: objects in, one PeerSession per BGPPeer selected for this node, the
// desired routes pushed into each, metrics out. Runs on one io_context thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "speaker/desired_routes.h"
#include "speaker/incremental_routes.h"
#include "speaker/objects_file.h"
#include "speaker/peer_session.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Gauge;
class Counter;
}  // namespace prometheus

namespace bgpcomm::speaker {

// How to run one session, derived from a BGPPeer.
struct PeerPlan {
  PeerEndpoint endpoint;
  SessionConfig config;
  bool operator==(const PeerPlan& other) const {
    return endpoint == other.endpoint && config.local_asn == other.config.local_asn &&
           config.peer_asn == other.config.peer_asn && config.router_id == other.config.router_id &&
           config.hold_time_seconds == other.config.hold_time_seconds &&
           config.families == other.config.families &&
           config.peer_asn_mode == other.config.peer_asn_mode &&
           config.graceful_restart.enabled == other.config.graceful_restart.enabled &&
           config.graceful_restart.restart_time_seconds ==
               other.config.graceful_restart.restart_time_seconds &&
           config.connect_retry_max == other.config.connect_retry_max;
  }
};

// Turns a BGPPeer into a plan: myASN/peerASN (dynamicASN "internal" = myASN, "external" =
// any other AS, read from the peer's OPEN), connectTime (the ConnectRetry time), peerAddress
// and peerPort, sourceAddress, routerID (else sourceAddress if IPv4, else
// `fallback_router_id`), holdTime (Go duration in whole seconds; default 90s), ebgpMultiHop (TTL 255),
// password, dualStackAddressFamily (both families, else the peer address's; disableMP keeps
// one), localASN (the ASN the session speaks as). Refuses vrf and interface peers, naming
// the field. enableGracefulRestart turns on Graceful Restart with `restart_time_seconds`.
std::expected<PeerPlan, std::string> PlanPeer(const community::Peer& peer,
                                              std::uint32_t fallback_router_id,
                                              std::uint16_t restart_time_seconds = 120);

// Prometheus metrics of the speaker (null registry: none).
class SpeakerMetrics {
 public:
  explicit SpeakerMetrics(prometheus::Registry* registry);
  void SetSessions(const std::map<SessionState, int>& by_state);
  void SetPrefixes(const std::string& peer, std::size_t prefixes);
  void AddUpdates(const std::string& peer, std::size_t updates);
  void SetRefused(const std::vector<RefusedAdvertisement>& refused);
  void AddUnanswered(const std::string& peer);
  // BGPPeers of this node that get no session, by the field that refused them (spec.vrf,
  // spec.interface, ... or "other"): PlanPeer's errors.
  void SetRefusedPeers(const std::vector<std::string>& errors);

 private:
  prometheus::Family<prometheus::Gauge>* sessions_ = nullptr;
  prometheus::Family<prometheus::Gauge>* prefixes_ = nullptr;
  prometheus::Family<prometheus::Counter>* updates_ = nullptr;
  prometheus::Family<prometheus::Gauge>* refused_ = nullptr;
  prometheus::Family<prometheus::Counter>* unanswered_ = nullptr;
  prometheus::Family<prometheus::Gauge>* refused_peers_ = nullptr;
  std::vector<std::string> refused_reasons_;
};

// The field a PlanPeer error names ("spec.vrf"), or "other".
std::string RefusedPeerField(const std::string& error);


struct SpeakerOptions {
  // --objects paths; empty: the objects arrive through Apply() (the Kubernetes mode).
  std::vector<std::string> objects;
  std::string node_name;
  std::chrono::milliseconds poll_interval{200};
  // Graceful Restart (peers with enableGracefulRestart): the restart time advertised, and
  // whether this process restarted (RestartMarker): the sessions started first then set the
  // Restart State bit.
  std::uint16_t restart_time_seconds = 120;
  bool restarted = false;
};

class Speaker {
 public:
  Speaker(asio::io_context& io, SpeakerOptions options, SpeakerMetrics& metrics);
  // With --objects: loads them (failing when they cannot be read), starts the sessions and
  // the change poller. Without: does nothing (Apply() drives the speaker).
  std::expected<void, std::string> Start();
  // Cease to every peer; stops polling. With `for_restart`, sessions that negotiated
  // Graceful Restart close without Cease (their peers keep the routes for the restart time).
  void Stop(bool for_restart = false);
  // True when some session has Graceful Restart enabled.
  bool graceful_restart_enabled() const;
  // True once a complete set of objects has been applied.
  bool ready() const { return ready_.load(); }

  // Makes the sessions and routes those of `objects` (on the io_context thread): peers
  // selected for this node get a session (changed ones restart, others stop with Cease),
  // each session gets its routes. `refused` are advertisements the caller already left out;
  // returns them with those ComputeDesiredRoutes refused, after logging and counting them.
  std::vector<RefusedAdvertisement> Apply(const SpeakerObjects& objects,
                                          std::vector<RefusedAdvertisement> refused);
  // The Kubernetes mode's Apply: sessions for routes.peers() as Apply makes them; a new
  // (or restarted) session gets its whole route set, every other only the routes changed
  // since the last call (routes.TakeChanges()), so an apply costs what changed. With
  // `full`, every session gets its whole set (after the routes were rebuilt). Returns
  // routes.Refused(), logged and counted.
  std::vector<RefusedAdvertisement> ApplyIncremental(IncrementalRoutes& routes, bool full);

 private:
  std::expected<void, std::string> Reload();
  void LogRefused(const std::vector<RefusedAdvertisement>& refused);
  // Makes one session per peer `selected` for this node (changed ones restart, others stop
  // with Cease); `give_routes(session, peer, added)` hands each its routes (before Start for
  // an added one). Returns the number of sessions.
  std::size_t SyncSessions(
      const std::vector<community::Peer>& peers,
      const std::function<bool(const std::string&)>& selected,
      const std::function<void(PeerSession&, const std::string&, bool)>& give_routes);
  void SchedulePoll();
  std::string Stamp() const;
  void UpdateSessionMetric();

  asio::io_context& io_;
  SpeakerOptions options_;
  SpeakerMetrics& metrics_;
  asio::steady_timer poll_timer_;
  std::string stamp_;
  std::map<std::string, std::shared_ptr<PeerSession>> sessions_;
  std::map<std::string, PeerPlan> plans_;
  std::atomic<bool> ready_{false};
  bool stopped_ = false;
  bool applied_once_ = false;
};

}  // namespace bgpcomm::speaker
