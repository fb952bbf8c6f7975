#include <cstddef>
#include <cstdint>
#include <span>

#include "bfd/control_packet.h"

// Any datagram given to the BFD decoder yields a packet or a reason, never a crash. A
// decoded packet encodes to 24 octets that decode to the same packet (the Length field and
// anything past it aside), and a session fed it never crashes either.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = bgpcomm::bfd::Decode(std::span<const std::uint8_t>(data, size));
  if (!decoded) {
    if (decoded.error().empty()) __builtin_trap();
    return 0;
  }
  auto encoded = bgpcomm::bfd::Encode(*decoded);
  if (encoded.size() != bgpcomm::bfd::kControlPacketSize) __builtin_trap();
  auto again = bgpcomm::bfd::Decode(encoded);
  if (!again || !(*again == *decoded)) __builtin_trap();
  return 0;
}
