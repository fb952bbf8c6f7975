#include "bfd/control_packet.h"

namespace bgpcomm::bfd {
namespace {

void PutU32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

std::uint32_t GetU32(std::span<const std::uint8_t> in, std::size_t at) {
  return (std::uint32_t{in[at]} << 24) | (std::uint32_t{in[at + 1]} << 16) |
         (std::uint32_t{in[at + 2]} << 8) | std::uint32_t{in[at + 3]};
}

constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kPoll = 0x20, kFinal = 0x10, kCpi = 0x08, kAuth = 0x04, kDemand = 0x02,
                       kMultipoint = 0x01;

}  // namespace

std::string_view StateName(State state) {
  switch (state) {
    case State::kAdminDown:
      return "AdminDown";
    case State::kDown:
      return "Down";
    case State::kInit:
      return "Init";
    case State::kUp:
      return "Up";
  }
  return "?";
}

std::string_view DiagnosticName(Diagnostic diagnostic) {
  switch (diagnostic) {
    case Diagnostic::kNone:
      return "none";
    case Diagnostic::kControlDetectionTimeExpired:
      return "control detection time expired";
    case Diagnostic::kEchoFailed:
      return "echo function failed";
    case Diagnostic::kNeighborSignaledDown:
      return "neighbor signaled session down";
    case Diagnostic::kForwardingPlaneReset:
      return "forwarding plane reset";
    case Diagnostic::kPathDown:
      return "path down";
    case Diagnostic::kConcatenatedPathDown:
      return "concatenated path down";
    case Diagnostic::kAdministrativelyDown:
      return "administratively down";
    case Diagnostic::kReverseConcatenatedPathDown:
      return "reverse concatenated path down";
  }
  return "unknown";
}

std::vector<std::uint8_t> Encode(const ControlPacket& p) {
  std::vector<std::uint8_t> out;
  out.reserve(kControlPacketSize);
  out.push_back(static_cast<std::uint8_t>((kVersion << 5) |
                                          (static_cast<std::uint8_t>(p.diagnostic) & 0x1f)));
  out.push_back(static_cast<std::uint8_t>((static_cast<std::uint8_t>(p.state) << 6) |
                                          (p.poll ? kPoll : 0) | (p.final ? kFinal : 0) |
                                          (p.control_plane_independent ? kCpi : 0) |
                                          (p.demand ? kDemand : 0)));
  out.push_back(p.detect_multiplier);
  out.push_back(static_cast<std::uint8_t>(kControlPacketSize));
  PutU32(out, p.my_discriminator);
  PutU32(out, p.your_discriminator);
  PutU32(out, p.desired_min_tx_us);
  PutU32(out, p.required_min_rx_us);
  PutU32(out, p.required_min_echo_rx_us);
  return out;
}

std::expected<ControlPacket, std::string> Decode(std::span<const std::uint8_t> d) {
  if (d.size() < kControlPacketSize) {
    return std::unexpected("packet of " + std::to_string(d.size()) +
                           " octets is shorter than 24");
  }
  std::uint8_t version = d[0] >> 5;
  if (version != kVersion) return std::unexpected("version " + std::to_string(version) + " is not 1");
  std::uint8_t length = d[3];
  if (length < kControlPacketSize) {
    return std::unexpected("Length " + std::to_string(length) + " is less than 24");
  }
  if (length > d.size()) {
    return std::unexpected("Length " + std::to_string(length) + " exceeds the " +
                           std::to_string(d.size()) + " octets received");
  }
  std::uint8_t flags = d[1];
  if (flags & kAuth) return std::unexpected("authentication is not supported (A bit set)");
  if (flags & kMultipoint) return std::unexpected("Multipoint (M) bit is set");
  ControlPacket p;
  std::uint8_t diagnostic = d[0] & 0x1f;
  p.diagnostic = diagnostic <= 8 ? static_cast<Diagnostic>(diagnostic) : Diagnostic::kNone;
  p.state = static_cast<State>(flags >> 6);
  p.poll = flags & kPoll;
  p.final = flags & kFinal;
  p.control_plane_independent = flags & kCpi;
  p.demand = flags & kDemand;
  p.detect_multiplier = d[2];
  if (p.detect_multiplier == 0) return std::unexpected("Detect Mult is zero");
  p.my_discriminator = GetU32(d, 4);
  p.your_discriminator = GetU32(d, 8);
  p.desired_min_tx_us = GetU32(d, 12);
  p.required_min_rx_us = GetU32(d, 16);
  p.required_min_echo_rx_us = GetU32(d, 20);
  if (p.my_discriminator == 0) return std::unexpected("My Discriminator is zero");
  if (p.your_discriminator == 0 && p.state != State::kDown && p.state != State::kAdminDown) {
    return std::unexpected("Your Discriminator is zero in state " +
                           std::string(StateName(p.state)));
  }
  return p;
}

}  // namespace bgpcomm::bfd
