// The BGP session state machine of RFC 4271 §8 as a pure function: (event, now) ->
// actions. It never touches a socket or a clock; the driver (session_driver.h) feeds it
// events and executes what it returns. The speaker only originates routes and always
// opens the connection itself (active side); it never listens.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "speaker/bgp_message.h"

namespace bgpcomm::speaker {

using FsmClock = std::chrono::steady_clock;
using TimePoint = FsmClock::time_point;
using Duration = std::chrono::milliseconds;

enum class SessionState { kIdle, kConnect, kActive, kOpenSent, kOpenConfirm, kEstablished };
std::string_view StateName(SessionState state);

enum class Timer { kConnectRetry, kHold, kKeepalive };
std::string_view TimerName(Timer timer);

// How the peer's AS is known: fixed (BGPPeer peerASN), or taken from its OPEN (BGPPeer
// dynamicASN: internal = our AS, external = any other AS).
enum class PeerAsnMode { kFixed, kInternal, kExternal };

// Graceful Restart as the restarting speaker (RFC 4724), BGPPeer enableGracefulRestart.
struct GracefulRestartConfig {
  bool enabled = false;
  // How long the peer keeps our routes (marked stale) after the session went down without
  // a NOTIFICATION (12 bits on the wire).
  std::uint16_t restart_time_seconds = 120;
  // This process restarted (its state marker survived it): the Restart State bit is set
  // until the session has been Established once.
  bool restarted = false;
};

struct SessionConfig {
  Asn local_asn;
  Asn peer_asn;  // kFixed only
  PeerAsnMode peer_asn_mode = PeerAsnMode::kFixed;
  std::uint32_t router_id = 0;           // our BGP Identifier, host order
  std::uint16_t hold_time_seconds = 90;  // proposed; 0 disables hold and keepalive
  std::vector<AfiSafi> families{kIpv4Unicast};
  Duration connect_retry_initial{std::chrono::seconds(1)};  // first backoff
  // The ConnectRetry time (BGPPeer connectTime): bounds one connection attempt (a peer
  // that drops our SYNs, e.g. for a wrong TCP MD5 password, is given up on after it) and
  // caps the doubling backoff between attempts.
  Duration connect_retry_max{std::chrono::seconds(10)};
  // Hold timer while waiting for the peer's OPEN (RFC 4271 §8.2.2 suggests 4 minutes).
  Duration open_hold{std::chrono::minutes(4)};
  GracefulRestartConfig graceful_restart;
};

// What both OPENs agreed on, known from OpenConfirm on.
struct Negotiated {
  std::uint16_t hold_time_seconds = 0;  // min(ours, theirs); 0: no hold timer
  Duration keepalive{0};                // hold / 3; 0: no keepalives
  bool four_octet_as = false;           // both sent capability 65
  bool route_refresh = false;           // the peer supports ROUTE-REFRESH
  bool graceful_restart = false;        // both sent the Graceful Restart capability
  std::vector<AfiSafi> families;        // ours that the peer also announced
  std::uint32_t peer_router_id = 0;
  Asn peer_asn;
  CodecOptions codec() const { return CodecOptions{.four_octet_as = four_octet_as}; }
};

namespace event {
struct ManualStart {};
// Administrative shutdown: Cease/2, no restart. With `for_restart` (the process stops to be
// started again) a session that negotiated Graceful Restart closes without a NOTIFICATION
// instead, so that the peer keeps our routes until we are back (RFC 4724 §4.2).
struct ManualStop {
  bool for_restart = false;
};
struct TcpConnected {};  // the active connection is up
struct TcpFails {};      // connect failed, or the connection closed
struct Received {        // one decoded message
  Message message;
};
struct Malformed {  // the codec refused a message (or framing failed)
  DecodeError error;
};
struct TimerExpired {
  Timer timer;
};
// The peer does not read what we send: the output queue is full, or no byte could be
// written for too long. The connection is dropped with Cease/Out of Resources.
struct SendBlocked {
  std::string reason;
};
// The BFD session watching this peer's path left Up: the session is dropped at once with
// Cease/BFD Down (RFC 9384), without waiting for the hold timer.
struct BfdDown {
  std::string diagnostic;
};
}  // namespace event
using Event = std::variant<event::ManualStart, event::ManualStop, event::TcpConnected,
                           event::TcpFails, event::Received, event::Malformed,
                           event::TimerExpired, event::SendBlocked, event::BfdDown>;

namespace action {
struct Connect {};  // open the TCP connection (an earlier one is closed first)
struct Close {      // close the TCP connection
  std::string reason;
};
struct Send {  // encode with the session's codec options and send
  Message message;
};
struct ArmTimer {
  Timer timer;
  TimePoint deadline;
};
struct DisarmTimer {
  Timer timer;
};
struct SessionUp {  // Established: send the full table, then End-of-RIB
  Negotiated negotiated;
};
struct SessionDown {  // left Established: forget what was sent
  std::string reason;
};
struct ResendTable {  // the peer sent ROUTE-REFRESH for `family` (RFC 2918 §4)
  AfiSafi family;
};
struct Note {  // something worth a log line that changes nothing else
  std::string message;
};
// A connection attempt got no answer at all (neither SYN-ACK nor RST) within the
// ConnectRetry time; `consecutive` counts such attempts since the last answer.
struct ConnectUnanswered {
  int consecutive = 0;
};
}  // namespace action
using Action = std::variant<action::Connect, action::Close, action::Send, action::ArmTimer,
                            action::DisarmTimer, action::SessionUp, action::SessionDown,
                            action::ResendTable, action::Note, action::ConnectUnanswered>;

// One session with one peer. Handle() is the whole machine; the rest are observers.
class SessionFsm {
 public:
  explicit SessionFsm(SessionConfig config);

  // Applies `ev` at time `now`; returns what the driver must do, in order.
  std::vector<Action> Handle(const Event& ev, TimePoint now);

  SessionState state() const { return state_; }
  const SessionConfig& config() const { return config_; }
  // Valid from OpenConfirm on.
  const std::optional<Negotiated>& negotiated() const { return negotiated_; }
  // Codec options for decoding what the peer sends: 4-octet AS once negotiated.
  CodecOptions codec() const {
    return negotiated_ ? negotiated_->codec() : CodecOptions{.four_octet_as = false};
  }
  // The delay before the next automatic connection attempt.
  Duration backoff() const { return backoff_; }

  // The OPEN we send.
  OpenMessage MakeOpen() const;
  // Checks the peer's OPEN against the configuration (RFC 4271 §6.2, RFC 6793, RFC 6286).
  std::optional<NotificationMessage> ValidateOpen(const OpenMessage& open) const;

 private:
  using Actions = std::vector<Action>;
  void HandleIdle(const Event& ev, TimePoint now, Actions& out);
  void HandleConnectOrActive(const Event& ev, TimePoint now, Actions& out);
  void HandleOpenSent(const Event& ev, TimePoint now, Actions& out);
  void HandleOpenConfirm(const Event& ev, TimePoint now, Actions& out);
  void HandleEstablished(const Event& ev, TimePoint now, Actions& out);

  void StartConnect(TimePoint now, Actions& out);
  // Sends `notification` (when set), closes, stops the timers, goes Idle and schedules the
  // automatic restart after the current backoff, which then doubles (capped).
  void Reset(const std::optional<NotificationMessage>& notification, std::string reason,
             TimePoint now, Actions& out);
  void ArmHold(TimePoint now, Actions& out);
  void ArmKeepalive(TimePoint now, Actions& out);
  void StopTimers(Actions& out);
  static NotificationMessage FsmError(SessionState state);

  SessionConfig config_;
  SessionState state_ = SessionState::kIdle;
  std::optional<Negotiated> negotiated_;
  Duration backoff_;
  bool stopped_ = true;  // ManualStop (or never started): no automatic restart
  bool restarted_ = false;  // the R bit still goes in our OPEN
  int unanswered_ = 0;   // consecutive connection attempts without any answer
  TimePoint established_at_{};  // when the session last became Established
};

}  // namespace bgpcomm::speaker
