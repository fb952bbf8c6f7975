#include "bfd/session.h"

#include <algorithm>

namespace bgpcomm::bfd {
namespace {

constexpr Duration kSlowTx = std::chrono::seconds(1);  // RFC 5880 §6.8.3, while not Up

std::uint32_t Micros(Duration d) {
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(d.count(), 0, 0xffffffffLL));
}

}  // namespace

Session::Session(SessionConfig config)
    : config_(config), jitter_state_(config.jitter_seed ? config.jitter_seed : 1) {}

Duration Session::DesiredMinTx() const {
  // §6.8.3: not less than one second while the session is not Up.
  return state_ == State::kUp ? config_.desired_min_tx : std::max(config_.desired_min_tx, kSlowTx);
}

Duration Session::transmit_interval() const {
  if (remote_min_rx_ == Duration::zero()) return Duration::zero();  // §6.8.7: peer wants none
  return std::max(DesiredMinTx(), remote_min_rx_);
}

Duration Session::detection_time() const {
  // §6.8.4, asynchronous mode: the peer's Detect Mult times the agreed interval at which
  // it sends (its Desired Min TX and our Required Min RX, whichever is slower).
  return remote_detect_multiplier_ * std::max(config_.required_min_rx, remote_desired_tx_);
}

ControlPacket Session::MakePacket() const {
  ControlPacket p;
  p.diagnostic = diagnostic_;
  p.state = state_;
  p.poll = poll_active_;
  p.detect_multiplier = config_.detect_multiplier;
  p.my_discriminator = config_.local_discriminator;
  p.your_discriminator = remote_discriminator_;
  p.desired_min_tx_us = Micros(DesiredMinTx());
  p.required_min_rx_us = Micros(config_.required_min_rx);
  p.required_min_echo_rx_us = 0;  // no echo function
  return p;
}

double Session::NextJitter() {
  // xorshift64: deterministic for a seed, so the machine stays pure and testable.
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  return static_cast<double>(jitter_state_ % 10000) / 10000.0;
}

void Session::ArmTransmit(TimePoint now, Actions& out) {
  Duration interval = transmit_interval();
  if (interval == Duration::zero()) {
    out.push_back(action::DisarmTimer{Timer::kTransmit});
    return;
  }
  // §6.8.7: 0-25% jitter below the interval; no more than 90% with Detect Mult 1.
  double max_fraction = config_.detect_multiplier == 1 ? 0.90 : 1.0;
  double fraction = 0.75 + (max_fraction - 0.75) * NextJitter();
  auto delay = Duration(static_cast<std::int64_t>(static_cast<double>(interval.count()) * fraction));
  out.push_back(action::ArmTimer{Timer::kTransmit, now + delay});
}

void Session::Transmit(TimePoint now, Actions& out) {
  out.push_back(action::Send{MakePacket()});
  ArmTransmit(now, out);
}

void Session::ChangeState(State to, Diagnostic diagnostic, TimePoint now, Actions& out) {
  if (to == state_) return;
  State from = state_;
  Duration before = DesiredMinTx();
  state_ = to;
  diagnostic_ = diagnostic;
  out.push_back(action::StateChanged{from, to, diagnostic});
  if (DesiredMinTx() != before && to != State::kAdminDown) {
    // §6.8.3: a changed Desired Min TX is announced with a Poll Sequence.
    poll_active_ = true;
    if (transmitting_) Transmit(now, out);
  }
}

std::vector<Action> Session::Handle(const Event& ev, TimePoint now) {
  Actions out;
  if (std::holds_alternative<event::Start>(ev)) {
    if (state_ != State::kAdminDown) return out;
    state_ = State::kDown;
    diagnostic_ = Diagnostic::kNone;
    out.push_back(action::StateChanged{State::kAdminDown, State::kDown, Diagnostic::kNone});
    transmitting_ = !config_.passive;
    if (transmitting_) Transmit(now, out);
  } else if (std::holds_alternative<event::Stop>(ev)) {
    if (state_ == State::kAdminDown) return out;
    ChangeState(State::kAdminDown, Diagnostic::kAdministrativelyDown, now, out);
    poll_active_ = false;
    if (remote_discriminator_ != 0) out.push_back(action::Send{MakePacket()});
    out.push_back(action::DisarmTimer{Timer::kTransmit});
    out.push_back(action::DisarmTimer{Timer::kDetect});
    transmitting_ = false;
  } else if (const auto* r = std::get_if<event::Received>(&ev)) {
    Receive(r->packet, now, out);
  } else if (const auto* t = std::get_if<event::TimerExpired>(&ev)) {
    if (t->timer == Timer::kTransmit) {
      if (transmitting_ && state_ != State::kAdminDown) Transmit(now, out);
    } else if (state_ == State::kInit || state_ == State::kUp) {
      // §6.8.4: nothing heard for the Detection Time.
      ChangeState(State::kDown, Diagnostic::kControlDetectionTimeExpired, now, out);
      remote_discriminator_ = 0;  // §6.8.1
      remote_desired_tx_ = Duration::zero();
    }
  }
  return out;
}

void Session::Receive(const ControlPacket& p, TimePoint now, Actions& out) {
  // §6.8.6: a packet for another session of ours is not this one's.
  if (p.your_discriminator != 0 && p.your_discriminator != config_.local_discriminator) return;
  if (state_ == State::kAdminDown) return;
  remote_discriminator_ = p.my_discriminator;
  remote_state_ = p.state;
  remote_diagnostic_ = p.diagnostic;
  remote_min_rx_ = Duration(p.required_min_rx_us);
  remote_desired_tx_ = Duration(p.desired_min_tx_us);
  remote_detect_multiplier_ = p.detect_multiplier;
  if (p.final) poll_active_ = false;

  if (remote_state_ == State::kAdminDown) {
    if (state_ != State::kDown) {
      ChangeState(State::kDown, Diagnostic::kNeighborSignaledDown, now, out);
    }
  } else if (state_ == State::kDown) {
    if (remote_state_ == State::kDown) {
      ChangeState(State::kInit, Diagnostic::kNone, now, out);
    } else if (remote_state_ == State::kInit) {
      ChangeState(State::kUp, Diagnostic::kNone, now, out);
    }
  } else if (state_ == State::kInit) {
    if (remote_state_ == State::kInit || remote_state_ == State::kUp) {
      ChangeState(State::kUp, Diagnostic::kNone, now, out);
    }
  } else if (state_ == State::kUp && remote_state_ == State::kDown) {
    ChangeState(State::kDown, Diagnostic::kNeighborSignaledDown, now, out);
  }

  if (p.poll) {
    // §6.8.6: answer a Poll at once with Final (and without Poll).
    ControlPacket reply = MakePacket();
    reply.poll = false;
    reply.final = true;
    out.push_back(action::Send{reply});
  }
  if (!transmitting_) {
    // Passive: the peer spoke first; from now on we transmit too.
    transmitting_ = true;
    Transmit(now, out);
  }
  if (state_ == State::kInit || state_ == State::kUp) {
    out.push_back(action::ArmTimer{Timer::kDetect, now + detection_time()});
  } else {
    out.push_back(action::DisarmTimer{Timer::kDetect});
  }
}

}  // namespace bgpcomm::bfd
