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
#include <set>
#include <string>
#include <vector>

#include "bfd/udp_driver.h"
#include "speaker/desired_routes.h"
#include "speaker/incremental_routes.h"
#include "speaker/objects_file.h"
#include "speaker/peer_session.h"
#include "speaker/status_sink.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Gauge;
class Counter;
}  // namespace prometheus

namespace bgpcomm::speaker {

class BfdPeers;

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
  // bgpcomm_speaker_session_up{peer}: 1 while the session to the BGPPeer `peer` is
  // Established, else 0 (MetalLB's metallb_bgp_session_up); a peer missing from `by_peer`
  // loses its series.
  void SetSessionUp(const std::map<std::string, SessionState>& by_peer);
  void SetPrefixes(const std::string& peer, std::size_t prefixes);
  void AddUpdates(const std::string& peer, std::size_t updates);
  void SetRefused(const std::vector<RefusedAdvertisement>& refused);
  void AddUnanswered(const std::string& peer);
  // BGPPeers of this node that get no session, by the field that refused them (spec.vrf,
  // spec.interface, ... or "other"): PlanPeer's errors.
  void SetRefusedPeers(const std::vector<std::string>& errors);
  // Where other parts (BFD) register their metrics; null: none.
  prometheus::Registry* registry() const { return registry_; }

 private:
  prometheus::Registry* registry_ = nullptr;
  prometheus::Family<prometheus::Gauge>* sessions_ = nullptr;
  prometheus::Family<prometheus::Gauge>* prefixes_ = nullptr;
  prometheus::Family<prometheus::Counter>* updates_ = nullptr;
  prometheus::Family<prometheus::Gauge>* refused_ = nullptr;
  prometheus::Family<prometheus::Counter>* unanswered_ = nullptr;
  prometheus::Family<prometheus::Gauge>* refused_peers_ = nullptr;
  prometheus::Family<prometheus::Gauge>* session_up_ = nullptr;
  std::set<std::string> session_up_peers_;
  std::vector<std::string> refused_reasons_;
};

// The field a PlanPeer error names ("spec.vrf"), or "other".
std::string RefusedPeerField(const std::string& error);

// A BGPPeer selected for this node that gets no session, with PlanPeer's error
// ("BGPPeer NAME: spec.vrf \"red\" is not supported: ...").
struct RefusedPeer {
  std::string name;
  std::string error;
  bool operator==(const RefusedPeer&) const = default;
};


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
  // The BFD driver's ports (tests only; the RFC's by default).
  bfd::DriverOptions bfd;
};

class Speaker {
 public:
  Speaker(asio::io_context& io, SpeakerOptions options, SpeakerMetrics& metrics);
  ~Speaker();
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
  // The BGPPeers the last Apply() gave no session (read on the io_context thread, or once
  // Apply() has returned to whoever waits for it).
  const std::vector<RefusedPeer>& refused_peers() const { return refused_peers_; }

  // Makes the sessions and routes those of `objects` (on the io_context thread): peers
  // selected for this node get a session (changed ones restart, others stop with Cease),
  // each session gets its routes. `refused` are advertisements the caller already left out;
  // returns them with those ComputeDesiredRoutes refused, after logging and counting them.
  std::vector<RefusedAdvertisement> Apply(const SpeakerObjects& objects,
                                          std::vector<RefusedAdvertisement> refused);
  // The Kubernetes mode's Apply: sessions for routes.peers() as Apply makes them; a new
  // (or restarted) session gets its whole route set, every other only the routes changed
  // since the last call (routes.TakeChanges()), so an apply costs what changed. With
  // `full`, every session gets its whole set (after the routes were rebuilt), and the
  // status sink every Service announced; otherwise only the Services whose announcement
  // may have changed. Returns routes.Refused(), logged and counted.
  std::vector<RefusedAdvertisement> ApplyIncremental(
      IncrementalRoutes& routes, const std::vector<community::BfdProfile>& bfd_profiles,
      bool full);
  // Where sessions and applies are reported (status objects); null: nowhere. Set before
  // Start; must outlive the speaker's sessions.
  void SetStatusSink(StatusSink* sink) { status_ = sink; }

 private:
  std::expected<void, std::string> Reload();
  void LogRefused(const std::vector<RefusedAdvertisement>& refused);
  // Makes one session per peer `selected` for this node (changed ones restart, others stop
  // with Cease; refused ones are kept in refused_peers_); `applied(refused_peers)` runs
  // once the refused peers are known, before any session changes (the status sink's
  // Applied); `give_routes(session, peer, added)` hands each its routes (before Start for
  // an added one); then the BFD sessions follow the peers and their `bfd_profiles`.
  // Returns the number of sessions.
  std::size_t SyncSessions(
      const std::vector<community::Peer>& peers,
      const std::vector<community::BfdProfile>& bfd_profiles,
      const std::function<bool(const std::string&)>& selected,
      const std::function<void(const std::vector<std::string>&)>& applied,
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
  std::vector<RefusedPeer> refused_peers_;
  // BFD sessions of the peers with a bfdProfile (speaker/bfd_peers.h).
  std::unique_ptr<BfdPeers> bfd_;
  std::atomic<bool> ready_{false};
  bool stopped_ = false;
  bool applied_once_ = false;
  StatusSink* status_ = nullptr;
};

}  // namespace bgpcomm::speaker
