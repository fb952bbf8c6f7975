#include "bfd/control_packet.h"

#include <gtest/gtest.h>

#include <functional>

namespace bgpcomm::bfd {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(ControlPacketTest, GoldenBytes) {
  ControlPacket p;
  p.diagnostic = Diagnostic::kControlDetectionTimeExpired;
  p.state = State::kUp;
  p.poll = true;
  p.detect_multiplier = 3;
  p.my_discriminator = 0x01020304;
  p.your_discriminator = 0x0a0b0c0d;
  p.desired_min_tx_us = 300000;
  p.required_min_rx_us = 1000000;
  // RFC 5880 §4.1: Vers 1 | Diag 1, Sta 3 | P, Detect Mult, Length 24, then five words.
  Bytes expected{0x21, 0xe0, 0x03, 0x18, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
                 0x00, 0x04, 0x93, 0xe0, 0x00, 0x0f, 0x42, 0x40, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(Encode(p), expected);
  auto decoded = Decode(expected);
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(*decoded, p);
}

Bytes Valid() {
  ControlPacket p;
  p.state = State::kDown;
  p.my_discriminator = 7;
  return Encode(p);
}

TEST(ControlPacketTest, ReceptionChecksOfRfc5880Section6_8_6) {
  struct Case {
    const char* name;
    std::function<void(Bytes&)> mutate;
    std::string error;
  };
  std::vector<Case> cases{
      {"short", [](Bytes& b) { b.resize(23); }, "packet of 23 octets is shorter than 24"},
      {"version", [](Bytes& b) { b[0] = 0x40; }, "version 2 is not 1"},
      {"length small", [](Bytes& b) { b[3] = 20; }, "Length 20 is less than 24"},
      {"length large", [](Bytes& b) { b[3] = 30; }, "Length 30 exceeds the 24 octets received"},
      {"auth", [](Bytes& b) { b[1] |= 0x04; }, "authentication is not supported (A bit set)"},
      {"multipoint", [](Bytes& b) { b[1] |= 0x01; }, "Multipoint (M) bit is set"},
      {"detect mult", [](Bytes& b) { b[2] = 0; }, "Detect Mult is zero"},
      {"my discriminator", [](Bytes& b) { b[7] = 0; }, "My Discriminator is zero"},
      {"your discriminator in Up", [](Bytes& b) { b[1] = 0xc0; },
       "Your Discriminator is zero in state Up"},
  };
  for (const Case& c : cases) {
    Bytes b = Valid();
    c.mutate(b);
    auto decoded = Decode(b);
    ASSERT_FALSE(decoded) << c.name;
    EXPECT_EQ(decoded.error(), c.error) << c.name;
  }
  // Longer datagrams are fine when Length says 24 (trailing octets are ignored).
  Bytes longer = Valid();
  longer.push_back(0xff);
  EXPECT_TRUE(Decode(longer));
}

TEST(ControlPacketTest, Names) {
  EXPECT_EQ(StateName(State::kInit), "Init");
  EXPECT_EQ(DiagnosticName(Diagnostic::kNeighborSignaledDown), "neighbor signaled session down");
}

}  // namespace
}  // namespace bgpcomm::bfd
