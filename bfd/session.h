// One BFD session in asynchronous mode (RFC 5880 §6) as a pure function: (event, now) ->
// actions, like the BGP session FSM. It never touches a socket or a clock; its driver feeds
// it received packets and timer expiries and executes what it returns. Demand mode and the
// echo function are not implemented (a profile asking for echo is refused before this).
#pragma once

#include <chrono>
#include <cstdint>
#include <variant>
#include <vector>

#include "bfd/control_packet.h"

namespace bgpcomm::bfd {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::microseconds;

// MetalLB BFDProfile parameters (defaults as MetalLB's: 300 ms, 300 ms, 3).
struct SessionConfig {
  std::uint32_t local_discriminator = 1;  // non-zero, unique among this system's sessions
  Duration desired_min_tx{std::chrono::milliseconds(300)};   // transmitInterval
  Duration required_min_rx{std::chrono::milliseconds(300)};  // receiveInterval
  std::uint8_t detect_multiplier = 3;                         // detectMultiplier
  // passiveMode (RFC 5880 §6.1): send nothing until the peer has sent a packet.
  bool passive = false;
  std::uint64_t jitter_seed = 0x9e3779b97f4a7c15ULL;  // the transmit jitter's sequence
};

enum class Timer { kTransmit, kDetect };

namespace event {
struct Start {};  // leave AdminDown: Down, and start transmitting
struct Stop {};   // AdminDown (diagnostic Administratively Down), tell the peer once
struct Received {
  ControlPacket packet;  // already through Decode()'s checks
};
struct TimerExpired {
  Timer timer;
};
}  // namespace event
using Event = std::variant<event::Start, event::Stop, event::Received, event::TimerExpired>;

namespace action {
struct Send {
  ControlPacket packet;
};
struct ArmTimer {
  Timer timer;
  TimePoint deadline;
};
struct DisarmTimer {
  Timer timer;
};
struct StateChanged {  // Up -> anything else is the signal BGP acts on
  State from;
  State to;
  Diagnostic diagnostic;
};
}  // namespace action
using Action = std::variant<action::Send, action::ArmTimer, action::DisarmTimer,
                            action::StateChanged>;

class Session {
 public:
  explicit Session(SessionConfig config);

  // Applies `ev` at time `now`; returns what the driver must do, in order.
  std::vector<Action> Handle(const Event& ev, TimePoint now);

  State state() const { return state_; }
  Diagnostic diagnostic() const { return diagnostic_; }
  std::uint32_t remote_discriminator() const { return remote_discriminator_; }
  // The state the peer announced last (Down before any packet). A session that went Down
  // because the peer said AdminDown is not a path failure (RFC 5882 §3.2): BGP stays up.
  State remote_state() const { return remote_state_; }
  // The Diagnostic of the peer's last packet (why it says what it says).
  Diagnostic remote_diagnostic() const { return remote_diagnostic_; }
  // The Detection Time (RFC 5880 §6.8.4) from what the peer announced last.
  Duration detection_time() const;
  // The interval between our packets before jitter (§6.8.7), zero: none.
  Duration transmit_interval() const;
  // The packet we would send now (P/F aside).
  ControlPacket MakePacket() const;

 private:
  using Actions = std::vector<Action>;
  void Receive(const ControlPacket& p, TimePoint now, Actions& out);
  void ChangeState(State to, Diagnostic diagnostic, TimePoint now, Actions& out);
  void Transmit(TimePoint now, Actions& out);
  void ArmTransmit(TimePoint now, Actions& out);
  Duration DesiredMinTx() const;
  double NextJitter();

  SessionConfig config_;
  State state_ = State::kAdminDown;
  Diagnostic diagnostic_ = Diagnostic::kNone;
  State remote_state_ = State::kDown;
  Diagnostic remote_diagnostic_ = Diagnostic::kNone;
  std::uint32_t remote_discriminator_ = 0;
  Duration remote_min_rx_{1};  // RFC 5880 §6.8.1: initialised to 1
  Duration remote_desired_tx_{0};
  std::uint8_t remote_detect_multiplier_ = 0;
  bool poll_active_ = false;  // a Poll Sequence waits for its Final
  bool transmitting_ = false;
  std::uint64_t jitter_state_;
};

}  // namespace bgpcomm::bfd
