// The BFD control packet (RFC 5880 §4.1): values in, bytes out, and back. Pure: no sockets
// or clocks. Authentication is not supported: a packet with the A bit is refused.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bgpcomm::bfd {

// RFC 5880 §4.1 State (Sta).
enum class State : std::uint8_t { kAdminDown = 0, kDown = 1, kInit = 2, kUp = 3 };
std::string_view StateName(State state);

// RFC 5880 §4.1 Diagnostic (Diag).
enum class Diagnostic : std::uint8_t {
  kNone = 0,
  kControlDetectionTimeExpired = 1,
  kEchoFailed = 2,
  kNeighborSignaledDown = 3,
  kForwardingPlaneReset = 4,
  kPathDown = 5,
  kConcatenatedPathDown = 6,
  kAdministrativelyDown = 7,
  kReverseConcatenatedPathDown = 8,
};
std::string_view DiagnosticName(Diagnostic diagnostic);

inline constexpr std::size_t kControlPacketSize = 24;  // without authentication

struct ControlPacket {
  Diagnostic diagnostic = Diagnostic::kNone;
  State state = State::kDown;
  bool poll = false;                     // P
  bool final = false;                    // F
  bool control_plane_independent = false;  // C
  bool demand = false;                   // D
  std::uint8_t detect_multiplier = 3;
  std::uint32_t my_discriminator = 0;
  std::uint32_t your_discriminator = 0;
  std::uint32_t desired_min_tx_us = 0;
  std::uint32_t required_min_rx_us = 0;
  std::uint32_t required_min_echo_rx_us = 0;
  bool operator==(const ControlPacket&) const = default;
};

// The 24 octets of `packet` (version 1, no authentication).
std::vector<std::uint8_t> Encode(const ControlPacket& packet);

// Decodes one received packet and applies the reception checks of RFC 5880 §6.8.6 that need
// no session: version 1, length at least 24 and no more than the datagram, Detect Mult not
// zero, Multipoint clear, My Discriminator not zero, Your Discriminator not zero unless the
// state is Down or AdminDown, no authentication. The error says which check failed.
std::expected<ControlPacket, std::string> Decode(std::span<const std::uint8_t> datagram);

}  // namespace bgpcomm::bfd
