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
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "speaker/adj_rib_out.h"
#include "speaker/bgp_encoder.h"
#include "speaker/send_queue.h"
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

// How much a session may buffer for a peer that does not read (a stuck peer must not grow
// the speaker's memory, nor hold its other peers back).
struct SendLimits {
  // Unwritten bytes the output queue may hold; more drops the session (Cease/8). Large
  // enough for a full table of a few million routes sent at session start.
  std::size_t max_queued_bytes = 32u << 20;
  // No byte written for this long while output waits drops the session (Cease/8). The
  // negotiated hold time replaces it once known (0 keeps this).
  Duration stall{std::chrono::seconds(90)};
  // How long a closing connection may take to deliver its last NOTIFICATION.
  Duration notification_linger{std::chrono::seconds(1)};
};

// What a session reports; every callback runs on the io_context thread.
struct SessionObserver {
  std::function<void(const std::string& peer, SessionState from, SessionState to)> state_changed;
  std::function<void(const std::string& peer, std::size_t updates)> updates_sent;
  // What the peer holds from us changed: `sent` now, and the prefixes that entered and left
  // it, or null when the whole table may have changed (session up or down, a whole-table
  // update).
  std::function<void(const std::string& peer, const RouteSet& sent,
                     const RibOutput::Membership* membership)>
      prefixes_announced;
  // A connection attempt got no answer within the ConnectRetry time.
  std::function<void(const std::string& peer)> connect_unanswered;
  // Why the session went down or a connection attempt failed (status: lastError).
  std::function<void(const std::string& peer, const std::string& error)> error;
};

class PeerSession : public std::enable_shared_from_this<PeerSession> {
 public:
  PeerSession(asio::io_context& io, PeerEndpoint endpoint, SessionConfig config,
              SessionObserver observer, SendLimits limits = {});
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  void Start();
  // Sends Cease (administrative shutdown) if connected, closes, stops every timer. With
  // `for_restart`, a session that negotiated Graceful Restart closes without Cease instead
  // (the peer keeps our routes, stale, for the restart time).
  void Stop(bool for_restart = false);
  // The BFD session of this peer's path left Up: drop the BGP session now (Cease/10).
  void BfdDown(std::string diagnostic);
  // The routes this peer should hold; sends the difference when Established.
  void SetRoutes(RouteSet routes);
  // Only some routes changed (strictly increasing prefixes): sends only those when
  // Established, whatever the size of the table.
  void ChangeRoutes(const std::vector<RouteChange>& changes);

  SessionState state() const { return fsm_.state(); }
  const PeerEndpoint& endpoint() const { return endpoint_; }
  const SessionConfig& config() const { return fsm_.config(); }
  // Unwritten bytes queued for the current connection (0 without one).
  std::size_t queued_bytes() const;
  // What the peer holds from us (the Adj-RIB-Out; empty unless Established).
  const RouteSet& sent() const { return rib_.sent(); }

 private:
  // One TCP connection and its output. Shared with the callbacks that use it, so a
  // connection closed by the session can still deliver its last NOTIFICATION (lingering)
  // while a new one starts; callbacks of a connection that is no longer current are ignored.
  struct Connection;
  void Dispatch(const Event& ev);
  void Execute(const Action& a);
  void Connect();
  void CloseConnection();
  void ArmTimer(Timer timer, TimePoint deadline);
  void DisarmTimer(Timer timer);
  void ReadMore();
  void ProcessInput();
  // Queues one message on the current connection; over the bound, the session is dropped.
  void SendBytes(Bytes bytes);
  // The last message before Close (NOTIFICATION): unsent messages make way for it.
  void SendFinal(Bytes bytes);
  void Flush(const std::shared_ptr<Connection>& conn);
  void WatchStall(const std::shared_ptr<Connection>& conn);
  void Blocked(const std::shared_ptr<Connection>& conn, std::string reason);
  void SendRib(const RibOutput& out);
  OutboundSession Outbound(const Negotiated& n) const;
  std::string_view Name() const { return endpoint_.name; }

  asio::io_context& io_;
  PeerEndpoint endpoint_;
  SessionFsm fsm_;
  SessionObserver observer_;
  AdjRibOut rib_;
  RouteSet routes_;
  SendLimits limits_;
  std::shared_ptr<Connection> conn_;  // null while not connected
  std::array<asio::steady_timer, 3> timers_;
  std::array<std::uint64_t, 3> timer_generation_{};
  std::vector<std::uint8_t> input_;
};

}  // namespace bgpcomm::speaker
