#include <cstddef>
#include <cstdint>
#include <span>

#include "speaker/bgp_decoder.h"
#include "speaker/bgp_encoder.h"

// Any byte string given to the BGP decoder must yield a message or a NOTIFICATION with
// a reason, never a crash or undefined behaviour, on either kind of session. A decoded
// message must encode (unless it outgrows 4096 octets) to bytes that decode again, and on
// a 4-octet session encoding is a fixpoint: Encode(Decode(Encode(m))) == Encode(m).
namespace {

using bgpcomm::speaker::CodecOptions;

void Check(std::span<const std::uint8_t> data, const CodecOptions& options, bool fixpoint) {
  auto decoded = bgpcomm::speaker::Decode(data, options);
  if (!decoded) {
    if (decoded.error().message.empty() || decoded.error().notification.code == 0) {
      __builtin_trap();
    }
    return;
  }
  auto encoded = bgpcomm::speaker::Encode(*decoded, options);
  if (!encoded) return;
  auto again = bgpcomm::speaker::Decode(*encoded, options);
  if (!again) __builtin_trap();
  if (!fixpoint) return;
  auto reencoded = bgpcomm::speaker::Encode(*again, options);
  if (!reencoded || *reencoded != *encoded) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  Check(bytes, CodecOptions{.four_octet_as = true}, /*fixpoint=*/true);
  Check(bytes, CodecOptions{.four_octet_as = false}, /*fixpoint=*/false);
  auto frame = bgpcomm::speaker::FrameLength(bytes);
  if (frame && *frame && (**frame < 19 || **frame > 4096)) __builtin_trap();
  return 0;
}
