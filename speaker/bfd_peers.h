// BFD for the BGPPeers that name a bfdProfile: one session of the BFD socket driver
// (bfd/udp_driver.h) per peer, whose leaving Up drops that peer's BGP session at once
// (PeerSession::BfdDown, Cease/BFD Down). Logs and metrics of the BFD sessions.
#pragma once

#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "bfd/udp_driver.h"
#include "community/objects.h"
#include "speaker/peer_session.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Gauge;
class Counter;
}  // namespace prometheus

namespace bgpcomm::speaker {

// One peer's BFD session as its BGPPeer and BFDProfile describe it.
struct BfdPlan {
  std::string profile;  // the BFDProfile's name, for logs
  bfd::PathConfig path;
  bfd::SessionConfig config;  // the driver picks the discriminator
  bool operator==(const BfdPlan& o) const {
    return profile == o.profile && path == o.path &&
           config.desired_min_tx == o.config.desired_min_tx &&
           config.required_min_rx == o.config.required_min_rx &&
           config.detect_multiplier == o.config.detect_multiplier &&
           config.passive == o.config.passive;
  }
};

// The BFD session of `peer` reached at `endpoint`: nullopt when it names no bfdProfile.
// BFDProfile fields: transmitInterval and receiveInterval (ms, default 300),
// detectMultiplier (default 3), passiveMode, minimumTtl (ebgpMultiHop peers, RFC 5883;
// default 254). Single hop (RFC 5881) unless the peer has ebgpMultiHop. Errors name the field:
// a bfdProfile that does not exist (the BGP session runs without BFD until it does), and
// echoMode: true (the echo function is not implemented).
std::expected<std::optional<BfdPlan>, std::string> PlanBfd(
    const community::Peer& peer, std::span<const community::BfdProfile> profiles,
    const PeerEndpoint& endpoint);

// What BGPSessionState.status.bfdStatus says of a peer's BFD session: its state (AdminDown,
// Down, Init, Up), "N/A" when it has none (no bfdProfile, or one refused), as frr-k8s does.
std::string BfdStatus(std::optional<bfd::State> state);

class BfdPeers {
 public:
  // Called when the BFD session of `peer` leaves Up for a path failure (not when the peer
  // stops BFD administratively, RFC 5882 §3.2).
  using DownHandler = std::function<void(const std::string& peer, const std::string& diagnostic)>;

  BfdPeers(asio::io_context& io, prometheus::Registry* registry, DownHandler on_down,
           bfd::DriverOptions options = {});
  ~BfdPeers();
  // Called on every state change of a peer's BFD session (the status objects' bfdStatus).
  using StateHandler = std::function<void(const std::string& peer, bfd::State to)>;
  void SetStateHandler(StateHandler on_state) { on_state_ = std::move(on_state); }

  // Runs exactly the BFD sessions of `peers` that have an endpoint (the BGPPeers this node
  // peers with): new ones start, changed ones restart, the others end with AdminDown.
  void Apply(std::span<const community::Peer> peers,
             std::span<const community::BfdProfile> profiles,
             const std::map<std::string, PeerEndpoint>& endpoints);
  // AdminDown to every peer (its BGP session is not dropped for that, RFC 5882 §3.2).
  void Stop();

  std::optional<bfd::State> state(const std::string& peer) const;
  const bfd::Driver& driver() const { return driver_; }

 private:
  struct Running {
    BfdPlan plan;
    bfd::Driver::Id id = 0;
  };
  void Changed(const std::string& peer, const bfd::StateChange& change);
  void SetStateMetric(const std::string& peer, std::optional<bfd::State> state);

  bfd::Driver driver_;
  DownHandler on_down_;
  StateHandler on_state_;
  std::map<std::string, Running> running_;
  std::map<std::string, std::string> refused_;  // peer -> last error logged
  prometheus::Family<prometheus::Gauge>* state_ = nullptr;
  prometheus::Family<prometheus::Counter>* downs_ = nullptr;
};

}  // namespace bgpcomm::speaker
