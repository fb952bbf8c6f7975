// The socket and timer driver of one BGP session (standalone Asio): it feeds the pure
// SessionFsm with what the network and the clock say, executes the actions it returns and
// sends the Adj-RIB-Out's UPDATEs. All of it runs on one io_context thread.
#pragma once

#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE
#endif
#include <array>
#include <asio.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "speaker/adj_rib_out.h"
#include "speaker/bgp_encoder.h"
#include "speaker/session_fsm.h"

namespace bgpcomm::speaker {

// Where and how to reach one peer.
struct PeerEndpoint {
  std::string name;  // BGPPeer metadata.name, for logs and metrics
  asio::ip::address address;
  std::uint16_t port = 179;
  std::optional<asio::ip::address> source;
  std::optional<int> ttl;  // eBGP multihop: IP TTL / hop limit of our packets
  std::string password;    // TCP MD5 (RFC 2385) when non-empty; never logged
  bool operator==(const PeerEndpoint&) const = default;
};

// What a session reports; every callback runs on the io_context thread.
struct SessionObserver {
  std::function<void(const std::string& peer, SessionState from, SessionState to)> state_changed;
  std::function<void(const std::string& peer, std::size_t updates)> updates_sent;
  std::function<void(const std::string& peer, std::size_t prefixes)> prefixes_announced;
};

class PeerSession : public std::enable_shared_from_this<PeerSession> {
 public:
  PeerSession(asio::io_context& io, PeerEndpoint endpoint, SessionConfig config,
              SessionObserver observer);
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  void Start();
  // Sends Cease (administrative shutdown) if connected, closes, stops every timer.
  void Stop();
  // The routes this peer should hold; sends the difference when Established.
  void SetRoutes(RouteSet routes);

  SessionState state() const { return fsm_.state(); }
  const PeerEndpoint& endpoint() const { return endpoint_; }
  const SessionConfig& config() const { return fsm_.config(); }

 private:
  void Dispatch(const Event& ev);
  void Execute(const Action& a);
  void Connect();
  void CloseSocket();
  void ArmTimer(Timer timer, TimePoint deadline);
  void DisarmTimer(Timer timer);
  void ReadMore();
  void ProcessInput();
  void SendBytes(Bytes bytes);
  void WriteNext();
  void SendRib(const RibOutput& out);
  OutboundSession Outbound(const Negotiated& n) const;
  std::string_view Name() const { return endpoint_.name; }

  asio::io_context& io_;
  PeerEndpoint endpoint_;
  SessionFsm fsm_;
  SessionObserver observer_;
  AdjRibOut rib_;
  RouteSet routes_;
  asio::ip::tcp::socket socket_;
  std::uint64_t connection_ = 0;  // bumped on every close: stale callbacks are dropped
  std::array<asio::steady_timer, 3> timers_;
  std::array<std::uint64_t, 3> timer_generation_{};
  std::vector<std::uint8_t> input_;
  std::array<std::uint8_t, 8192> read_buffer_{};
  std::deque<Bytes> output_;
  bool writing_ = false;
};

}  // namespace bgpcomm::speaker
