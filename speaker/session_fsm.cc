#include "speaker/session_fsm.h"

#include <algorithm>
#include <string>
#include <utility>

namespace bgpcomm::speaker {
namespace {

// RFC 6608 §3: FSM Error subcodes name the state the unexpected message arrived in.
constexpr std::uint8_t kFsmUnexpectedInOpenSent = 1;
constexpr std::uint8_t kFsmUnexpectedInOpenConfirm = 2;
constexpr std::uint8_t kFsmUnexpectedInEstablished = 3;
// RFC 4486 §4: Cease subcode Administrative Shutdown.
constexpr std::uint8_t kCeaseAdministrativeShutdown = 2;
// RFC 4486 §4: Cease subcode Out of Resources (the peer does not read what we send).
constexpr std::uint8_t kCeaseOutOfResources = 8;
// RFC 9384 §2: Cease subcode BFD Down.
constexpr std::uint8_t kCeaseBfdDown = 10;
// RFC 5492 §5: OPEN Message Error subcode Unsupported Capability.
constexpr std::uint8_t kUnsupportedCapability = 7;

NotificationMessage Notification(std::uint8_t code, std::uint8_t subcode) {
  return NotificationMessage{.code = code, .subcode = subcode, .data = {}};
}

std::string Describe(const NotificationMessage& n) {
  return "NOTIFICATION " + std::to_string(n.code) + "/" + std::to_string(n.subcode);
}

std::string_view MessageName(const Message& m) {
  switch (m.index()) {
    case 0:
      return "OPEN";
    case 1:
      return "UPDATE";
    case 2:
      return "NOTIFICATION";
    case 3:
      return "KEEPALIVE";
    default:
      return "ROUTE-REFRESH";
  }
}

}  // namespace

std::string_view StateName(SessionState state) {
  switch (state) {
    case SessionState::kIdle:
      return "Idle";
    case SessionState::kConnect:
      return "Connect";
    case SessionState::kActive:
      return "Active";
    case SessionState::kOpenSent:
      return "OpenSent";
    case SessionState::kOpenConfirm:
      return "OpenConfirm";
    case SessionState::kEstablished:
      return "Established";
  }
  return "?";
}

std::string_view TimerName(Timer timer) {
  switch (timer) {
    case Timer::kConnectRetry:
      return "ConnectRetry";
    case Timer::kHold:
      return "Hold";
    case Timer::kKeepalive:
      return "Keepalive";
  }
  return "?";
}

SessionFsm::SessionFsm(SessionConfig config)
    : config_(std::move(config)),
      backoff_(config_.connect_retry_initial),
      restarted_(config_.graceful_restart.restarted) {}

OpenMessage SessionFsm::MakeOpen() const {
  OpenMessage open;
  open.asn = config_.local_asn;
  open.hold_time_seconds = config_.hold_time_seconds;
  open.bgp_identifier = config_.router_id;
  open.capabilities.multiprotocol = config_.families;
  open.capabilities.route_refresh = true;
  open.capabilities.four_octet_as = true;
  if (config_.graceful_restart.enabled) {
    // RFC 4724 §3: every family we announce, with the F bit: the routes point at the node,
    // whose forwarding does not depend on this process.
    GracefulRestart gr;
    gr.restart_state = restarted_;
    gr.restart_time_seconds = std::min<std::uint16_t>(config_.graceful_restart.restart_time_seconds, 0x0fff);
    for (const AfiSafi& f : config_.families) {
      gr.families.push_back({.family = f, .forwarding_state_preserved = true});
    }
    open.capabilities.graceful_restart = std::move(gr);
  }
  return open;
}

std::optional<NotificationMessage> SessionFsm::ValidateOpen(const OpenMessage& open) const {
  // Without the 4-octet AS capability a 4-octet peer shows up as AS_TRANS and fails here.
  bool as_ok = false;
  switch (config_.peer_asn_mode) {
    case PeerAsnMode::kFixed:
      as_ok = open.asn == config_.peer_asn;
      break;
    case PeerAsnMode::kInternal:
      as_ok = open.asn == config_.local_asn;
      break;
    case PeerAsnMode::kExternal:
      as_ok = open.asn != config_.local_asn;
      break;
  }
  if (!as_ok) return Notification(error::kOpenMessage, error::kBadPeerAs);
  if (open.hold_time_seconds == 1 || open.hold_time_seconds == 2) {
    return Notification(error::kOpenMessage, error::kUnacceptableHoldTime);
  }
  // RFC 6286 §2.1: the identifier is non-zero, and unique within an AS (iBGP).
  if (open.bgp_identifier == 0 ||
      (open.bgp_identifier == config_.router_id && config_.local_asn == open.asn)) {
    return Notification(error::kOpenMessage, error::kBadBgpIdentifier);
  }
  const std::vector<AfiSafi>& theirs = open.capabilities.multiprotocol;
  bool common = std::ranges::any_of(config_.families, [&](const AfiSafi& f) {
    return theirs.empty() ? f == kIpv4Unicast : std::ranges::find(theirs, f) != theirs.end();
  });
  if (!common) return Notification(error::kOpenMessage, kUnsupportedCapability);
  return std::nullopt;
}

NotificationMessage SessionFsm::FsmError(SessionState state) {
  std::uint8_t subcode = error::kUnspecific;
  if (state == SessionState::kOpenSent) subcode = kFsmUnexpectedInOpenSent;
  if (state == SessionState::kOpenConfirm) subcode = kFsmUnexpectedInOpenConfirm;
  if (state == SessionState::kEstablished) subcode = kFsmUnexpectedInEstablished;
  return Notification(error::kFiniteStateMachine, subcode);
}

std::vector<Action> SessionFsm::Handle(const Event& ev, TimePoint now) {
  Actions out;
  if (const auto* stop = std::get_if<event::ManualStop>(&ev)) {
    stopped_ = true;
    if (state_ == SessionState::kIdle) {
      StopTimers(out);
    } else if (stop->for_restart && negotiated_ && negotiated_->graceful_restart) {
      // RFC 4724 §4.2: a session that ends without a NOTIFICATION leaves our routes at the
      // peer, stale, for the restart time.
      Reset(std::nullopt, "stopping for a restart: the peer keeps the routes (graceful restart)",
            now, out);
    } else {
      bool connected = state_ == SessionState::kOpenSent || state_ == SessionState::kOpenConfirm ||
                       state_ == SessionState::kEstablished;
      Reset(connected ? std::optional(Notification(error::kCease, kCeaseAdministrativeShutdown))
                      : std::nullopt,
            "administrative shutdown", now, out);
    }
    backoff_ = config_.connect_retry_initial;
    return out;
  }
  if (const auto* blocked = std::get_if<event::SendBlocked>(&ev)) {
    // Only a connection that carries BGP messages can block; before that there is none.
    if (state_ == SessionState::kOpenSent || state_ == SessionState::kOpenConfirm ||
        state_ == SessionState::kEstablished) {
      Reset(Notification(error::kCease, kCeaseOutOfResources),
            "peer does not read: " + blocked->reason, now, out);
    }
    return out;
  }
  if (const auto* bfd = std::get_if<event::BfdDown>(&ev)) {
    if (state_ == SessionState::kOpenSent || state_ == SessionState::kOpenConfirm ||
        state_ == SessionState::kEstablished) {
      Reset(Notification(error::kCease, kCeaseBfdDown), "BFD down: " + bfd->diagnostic, now, out);
    }
    return out;
  }
  switch (state_) {
    case SessionState::kIdle:
      HandleIdle(ev, now, out);
      break;
    case SessionState::kConnect:
    case SessionState::kActive:
      HandleConnectOrActive(ev, now, out);
      break;
    case SessionState::kOpenSent:
      HandleOpenSent(ev, now, out);
      break;
    case SessionState::kOpenConfirm:
      HandleOpenConfirm(ev, now, out);
      break;
    case SessionState::kEstablished:
      HandleEstablished(ev, now, out);
      break;
  }
  return out;
}

void SessionFsm::HandleIdle(const Event& ev, TimePoint now, Actions& out) {
  if (std::holds_alternative<event::ManualStart>(ev)) {
    stopped_ = false;
    StartConnect(now, out);
  } else if (const auto* t = std::get_if<event::TimerExpired>(&ev)) {
    // The ConnectRetry timer doubles as the automatic restart after a reset.
    if (t->timer == Timer::kConnectRetry && !stopped_) StartConnect(now, out);
  } else if (std::holds_alternative<event::TcpConnected>(ev)) {
    out.push_back(action::Close{"connection while Idle"});
  }
}

void SessionFsm::HandleConnectOrActive(const Event& ev, TimePoint now, Actions& out) {
  auto go_active = [&](std::string reason) {
    out.push_back(action::Close{std::move(reason)});
    state_ = SessionState::kActive;
    out.push_back(action::ArmTimer{Timer::kConnectRetry, now + backoff_});
    backoff_ = std::min(backoff_ * 2, config_.connect_retry_max);
  };
  if (std::holds_alternative<event::TcpConnected>(ev)) {
    if (state_ != SessionState::kConnect) {
      out.push_back(action::Close{"unexpected connection while Active"});
      return;
    }
    unanswered_ = 0;
    out.push_back(action::DisarmTimer{Timer::kConnectRetry});
    out.push_back(action::Send{MakeOpen()});
    out.push_back(action::ArmTimer{Timer::kHold, now + config_.open_hold});
    state_ = SessionState::kOpenSent;
  } else if (std::holds_alternative<event::TcpFails>(ev)) {
    if (state_ == SessionState::kConnect) {
      unanswered_ = 0;  // refused or unreachable is an answer
      go_active("connection failed");
    }
  } else if (const auto* t = std::get_if<event::TimerExpired>(&ev)) {
    if (t->timer != Timer::kConnectRetry) return;
    if (state_ == SessionState::kConnect) {
      out.push_back(action::ConnectUnanswered{++unanswered_});
      go_active("connect timed out");
    } else {
      StartConnect(now, out);
    }
  }
}

void SessionFsm::HandleOpenSent(const Event& ev, TimePoint now, Actions& out) {
  if (const auto* r = std::get_if<event::Received>(&ev)) {
    if (const auto* open = std::get_if<OpenMessage>(&r->message)) {
      if (auto bad = ValidateOpen(*open)) {
        Reset(bad, "unacceptable OPEN: " + Describe(*bad), now, out);
        return;
      }
      Negotiated n;
      n.hold_time_seconds = std::min(config_.hold_time_seconds, open->hold_time_seconds);
      n.keepalive =
          std::chrono::duration_cast<Duration>(std::chrono::seconds(n.hold_time_seconds)) / 3;
      n.four_octet_as = open->capabilities.four_octet_as;
      n.route_refresh = open->capabilities.route_refresh;
      n.graceful_restart =
          config_.graceful_restart.enabled && open->capabilities.graceful_restart.has_value();
      const std::vector<AfiSafi>& theirs = open->capabilities.multiprotocol;
      for (const AfiSafi& f : config_.families) {
        if (theirs.empty() ? f == kIpv4Unicast : std::ranges::find(theirs, f) != theirs.end()) {
          n.families.push_back(f);
        }
      }
      n.peer_router_id = open->bgp_identifier;
      n.peer_asn = open->asn;
      negotiated_ = std::move(n);
      out.push_back(action::Send{KeepaliveMessage{}});
      ArmHold(now, out);
      ArmKeepalive(now, out);
      state_ = SessionState::kOpenConfirm;
    } else if (const auto* n = std::get_if<NotificationMessage>(&r->message)) {
      Reset(std::nullopt, "peer sent " + Describe(*n), now, out);
    } else {
      Reset(FsmError(state_), "unexpected " + std::string(MessageName(r->message)) + " in OpenSent",
            now, out);
    }
  } else if (const auto* m = std::get_if<event::Malformed>(&ev)) {
    Reset(m->error.notification, m->error.message, now, out);
  } else if (std::holds_alternative<event::TcpFails>(ev)) {
    // RFC 4271 §8.2.2: back to Active, retry after ConnectRetry.
    out.push_back(action::Close{"connection lost in OpenSent"});
    StopTimers(out);
    state_ = SessionState::kActive;
    out.push_back(action::ArmTimer{Timer::kConnectRetry, now + backoff_});
    backoff_ = std::min(backoff_ * 2, config_.connect_retry_max);
  } else if (const auto* t = std::get_if<event::TimerExpired>(&ev)) {
    if (t->timer == Timer::kHold) {
      Reset(Notification(error::kHoldTimerExpired, error::kUnspecific), "hold timer expired", now,
            out);
    }
  }
}

void SessionFsm::HandleOpenConfirm(const Event& ev, TimePoint now, Actions& out) {
  if (const auto* r = std::get_if<event::Received>(&ev)) {
    if (std::holds_alternative<KeepaliveMessage>(r->message)) {
      state_ = SessionState::kEstablished;
      // The backoff is not reset yet: only a session that stays up for a hold time
      // (Reset) earns it, so a peer that sends Cease right after (prefix limit, admin
      // shutdown) is not sent the full table every second.
      established_at_ = now;
      restarted_ = false;  // later OPENs of this session no longer claim a restart
      ArmHold(now, out);
      out.push_back(action::SessionUp{*negotiated_});
    } else if (const auto* n = std::get_if<NotificationMessage>(&r->message)) {
      Reset(std::nullopt, "peer sent " + Describe(*n), now, out);
    } else {
      Reset(FsmError(state_),
            "unexpected " + std::string(MessageName(r->message)) + " in OpenConfirm", now, out);
    }
  } else if (const auto* m = std::get_if<event::Malformed>(&ev)) {
    Reset(m->error.notification, m->error.message, now, out);
  } else if (std::holds_alternative<event::TcpFails>(ev)) {
    Reset(std::nullopt, "connection lost in OpenConfirm", now, out);
  } else if (const auto* t = std::get_if<event::TimerExpired>(&ev)) {
    if (t->timer == Timer::kHold) {
      Reset(Notification(error::kHoldTimerExpired, error::kUnspecific), "hold timer expired", now,
            out);
    } else if (t->timer == Timer::kKeepalive) {
      out.push_back(action::Send{KeepaliveMessage{}});
      ArmKeepalive(now, out);
    }
  }
}

void SessionFsm::HandleEstablished(const Event& ev, TimePoint now, Actions& out) {
  if (const auto* r = std::get_if<event::Received>(&ev)) {
    if (std::holds_alternative<KeepaliveMessage>(r->message)) {
      ArmHold(now, out);
    } else if (const auto* update = std::get_if<UpdateMessage>(&r->message)) {
      ArmHold(now, out);
      // The speaker keeps no routes from its peers; RFC 7606 outcomes are only logged.
      for (const AttributeError& e : update->attribute_errors) {
        out.push_back(action::Note{
            std::string(e.action == AttributeAction::kTreatAsWithdraw ? "treat-as-withdraw"
                                                                      : "attribute-discard") +
            " for attribute " + std::to_string(e.type) + " in received UPDATE: " + e.message});
      }
    } else if (const auto* rr = std::get_if<RouteRefreshMessage>(&r->message)) {
      ArmHold(now, out);
      const std::vector<AfiSafi>& families = negotiated_->families;
      if (std::ranges::find(families, rr->family) != families.end()) {
        out.push_back(action::ResendTable{rr->family});
      } else {
        out.push_back(action::Note{"ROUTE-REFRESH for a family not negotiated"});
      }
    } else if (const auto* n = std::get_if<NotificationMessage>(&r->message)) {
      Reset(std::nullopt, "peer sent " + Describe(*n), now, out);
    } else {
      Reset(FsmError(state_), "unexpected OPEN in Established", now, out);
    }
  } else if (const auto* m = std::get_if<event::Malformed>(&ev)) {
    Reset(m->error.notification, m->error.message, now, out);
  } else if (std::holds_alternative<event::TcpFails>(ev)) {
    Reset(std::nullopt, "connection lost", now, out);
  } else if (const auto* t = std::get_if<event::TimerExpired>(&ev)) {
    if (t->timer == Timer::kHold) {
      Reset(Notification(error::kHoldTimerExpired, error::kUnspecific), "hold timer expired", now,
            out);
    } else if (t->timer == Timer::kKeepalive) {
      out.push_back(action::Send{KeepaliveMessage{}});
      ArmKeepalive(now, out);
    }
  }
}

void SessionFsm::StartConnect(TimePoint now, Actions& out) {
  state_ = SessionState::kConnect;
  out.push_back(action::Connect{});
  // In Connect the ConnectRetry timer bounds the connection attempt.
  out.push_back(action::ArmTimer{Timer::kConnectRetry, now + config_.connect_retry_max});
}

void SessionFsm::Reset(const std::optional<NotificationMessage>& notification, std::string reason,
                       TimePoint now, Actions& out) {
  if (notification) out.push_back(action::Send{*notification});
  out.push_back(action::Close{reason});
  StopTimers(out);
  if (state_ == SessionState::kEstablished) {
    out.push_back(action::SessionDown{reason});
    // Up for at least a hold time (90 s when none was negotiated): a stable session, so
    // the next attempt starts from the first backoff again.
    const std::uint16_t hold = negotiated_ ? negotiated_->hold_time_seconds : 0;
    if (now - established_at_ >= std::chrono::seconds(hold != 0 ? hold : 90)) {
      backoff_ = config_.connect_retry_initial;
    }
  }
  state_ = SessionState::kIdle;
  negotiated_.reset();
  if (!stopped_) {
    out.push_back(action::ArmTimer{Timer::kConnectRetry, now + backoff_});
    backoff_ = std::min(backoff_ * 2, config_.connect_retry_max);
  }
}

void SessionFsm::ArmHold(TimePoint now, Actions& out) {
  if (negotiated_->hold_time_seconds == 0) {
    out.push_back(action::DisarmTimer{Timer::kHold});
  } else {
    out.push_back(
        action::ArmTimer{Timer::kHold, now + std::chrono::seconds(negotiated_->hold_time_seconds)});
  }
}

void SessionFsm::ArmKeepalive(TimePoint now, Actions& out) {
  if (negotiated_->keepalive == Duration::zero()) {
    out.push_back(action::DisarmTimer{Timer::kKeepalive});
  } else {
    out.push_back(action::ArmTimer{Timer::kKeepalive, now + negotiated_->keepalive});
  }
}

void SessionFsm::StopTimers(Actions& out) {
  out.push_back(action::DisarmTimer{Timer::kConnectRetry});
  out.push_back(action::DisarmTimer{Timer::kHold});
  out.push_back(action::DisarmTimer{Timer::kKeepalive});
}

}  // namespace bgpcomm::speaker
