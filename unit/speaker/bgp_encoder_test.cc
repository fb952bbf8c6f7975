// Golden byte vectors for every message type and attribute, derived by hand from the
// RFCs (field by field in the comments), and round trips through the decoder.
#include "speaker/bgp_encoder.h"

#include <gtest/gtest.h>

#include "speaker/bgp_decoder.h"
#include "unit/speaker/wire_test_util.h"

namespace bgpcomm::speaker {
namespace {

using testing::FromHex;
using testing::ToHex;

constexpr CodecOptions kFourOctet{.four_octet_as = true};
constexpr CodecOptions kTwoOctet{.four_octet_as = false};

IpPrefix V4Prefix(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, int length) {
  return *IpPrefix::Make(IpAddress::V4(a, b, c, d), length);
}

// 2001:db8:ff::1 and 2001:db8:100::/48.
const IpAddress kV6NextHop =
    IpAddress::V6({0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
const IpAddress kV6LinkLocal =
    IpAddress::V6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
IpPrefix V6Prefix48() {
  return *IpPrefix::Make(
      IpAddress::V6({0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 48);
}

// Encodes `message`, expects `hex`, and expects the decoder to give `message` back.
void ExpectGolden(const Message& message, std::string_view hex,
                  const CodecOptions& options = kFourOctet) {
  auto bytes = Encode(message, options);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(ToHex(*bytes), ToHex(FromHex(hex)));
  auto decoded = Decode(*bytes, options);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, message);
}

TEST(EncoderTest, Keepalive) {
  // RFC 4271 §4.4: header only, length 19, type 4.
  ExpectGolden(KeepaliveMessage{}, "ffffffffffffffffffffffffffffffff 0013 04");
}

TEST(EncoderTest, OpenWithTwoOctetAsnAndCapabilities) {
  OpenMessage open;
  open.asn = Asn(65001);
  open.hold_time_seconds = 90;
  open.bgp_identifier = 0xc0000201;  // 192.0.2.1
  open.capabilities.multiprotocol = {kIpv4Unicast, kIpv6Unicast};
  open.capabilities.route_refresh = true;
  open.capabilities.four_octet_as = true;
  ExpectGolden(open,
               "ffffffffffffffffffffffffffffffff 0033 01"  // 51 octets, OPEN
               "04"                                        // version 4
               "fde9"                                      // My AS 65001
               "005a"                                      // hold time 90
               "c0000201"                                  // BGP identifier
               "16"                                        // optional parameters length 22
               "02 14"             // Capabilities parameter (RFC 5492), 20 octets
               "01 04 0001 00 01"  // MP-BGP IPv4 unicast (RFC 4760 §8)
               "01 04 0002 00 01"  // MP-BGP IPv6 unicast
               "02 00"             // route refresh (RFC 2918)
               "41 04 0000fde9");  // 4-octet AS 65001 (RFC 6793)
}

TEST(EncoderTest, OpenWithFourOctetAsnUsesAsTransAndGracefulRestartReceiveOnly) {
  OpenMessage open;
  open.asn = Asn(4200000000);  // 0xfa56ea00
  open.hold_time_seconds = 180;
  open.bgp_identifier = 0x0a000001;
  open.capabilities.multiprotocol = {kIpv4Unicast};
  open.capabilities.graceful_restart = GracefulRestart{};
  open.capabilities.four_octet_as = true;
  ExpectGolden(open,
               "ffffffffffffffffffffffffffffffff 002f 01"  // 47 octets
               "04 5ba0 00b4 0a000001"  // My AS = AS_TRANS 23456 (RFC 6793 §4.1)
               "12 02 10"               // params 18, capabilities 16
               "01 04 0001 00 01"       // IPv4 unicast
               "40 02 0000"             // graceful restart, no flags, time 0, no families
               "41 04 fa56ea00");       // the real ASN
}

TEST(EncoderTest, OpenWithFourOctetAsnAlwaysCarriesTheCapability) {
  OpenMessage open;
  open.asn = Asn(4200000000);
  open.bgp_identifier = 1;
  auto bytes = EncodeOpen(open);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(ToHex(*bytes), ToHex(FromHex("ffffffffffffffffffffffffffffffff 0025 01"
                                         "04 5ba0 005a 00000001 08 02 06 41 04 fa56ea00")));
}

TEST(EncoderTest, OpenWithGracefulRestartFamiliesAndUnknownCapability) {
  OpenMessage open;
  open.asn = Asn(64512);
  open.bgp_identifier = 0x01020304;
  GracefulRestart gr;
  gr.restart_state = true;
  gr.notification = true;
  gr.restart_time_seconds = 120;
  gr.families = {{kIpv6Unicast, true}};
  open.capabilities.graceful_restart = gr;
  open.capabilities.other = {{70, {}}};  // enhanced route refresh, uninterpreted
  ExpectGolden(open,
               "ffffffffffffffffffffffffffffffff 0029 01"  // 41 octets
               "04 fc00 005a 01020304 0c 02 0a"
               "40 06 c078 0002 01 80"  // R|N|120; IPv6 unicast, F bit
               "46 00");                // code 70, empty
}

TEST(EncoderTest, OpenWithoutCapabilities) {
  OpenMessage open;
  open.asn = Asn(100);
  open.hold_time_seconds = 0;
  open.bgp_identifier = 7;
  ExpectGolden(open, "ffffffffffffffffffffffffffffffff 001d 01 04 0064 0000 00000007 00");
}

TEST(EncoderTest, Notification) {
  // RFC 4271 §4.5: code, subcode, data. Cease / Administrative Shutdown (RFC 4486).
  ExpectGolden(NotificationMessage{6, 2, {}}, "ffffffffffffffffffffffffffffffff 0015 03 06 02");
  ExpectGolden(NotificationMessage{1, 2, {0x10, 0x01}},
               "ffffffffffffffffffffffffffffffff 0017 03 01 02 1001");
}

TEST(EncoderTest, RouteRefresh) {
  // RFC 2918 §3: AFI 2, reserved 0, SAFI 1.
  ExpectGolden(RouteRefreshMessage{kIpv6Unicast, 0},
               "ffffffffffffffffffffffffffffffff 0017 05 0002 00 01");
}

PathAttributes Ipv4Attributes() {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{{AsPathSegment::Type::kSequence, {Asn(65001)}}};
  a.next_hop = IpAddress::V4(198, 51, 100, 1);
  a.local_pref = 100;
  a.communities = {{64512, 100}};
  a.large_communities = {{64512, 1, 100}};
  return a;
}

TEST(EncoderTest, UpdateIpv4WithEveryAttribute) {
  UpdateMessage update;
  update.attributes = Ipv4Attributes();
  update.nlri = {V4Prefix(203, 0, 113, 10, 32), V4Prefix(198, 51, 100, 0, 24)};
  ExpectGolden(update,
               "ffffffffffffffffffffffffffffffff 0051 02"  // 81 octets
               "0000"                                      // no withdrawn routes
               "0031"                                      // 49 octets of attributes
               "40 01 01 00"                               // ORIGIN IGP
               "40 02 06 02 01 0000fde9"                   // AS_PATH SEQUENCE [65001]
               "40 03 04 c6336401"                         // NEXT_HOP 198.51.100.1
               "40 05 04 00000064"                         // LOCAL_PREF 100
               "c0 08 04 fc000064"                         // COMMUNITIES 64512:100
               "c0 20 0c 0000fc00 00000001 00000064"       // LARGE_COMMUNITY 64512:1:100
               "20 cb00710a"                               // 203.0.113.10/32
               "18 c63364");                               // 198.51.100.0/24
}

TEST(EncoderTest, UpdateWithMedAndUnknownOptionalTransitive) {
  UpdateMessage update;
  update.attributes.origin = Origin::kIncomplete;
  update.attributes.as_path = AsPath{};
  update.attributes.next_hop = IpAddress::V4(10, 0, 0, 1);
  update.attributes.multi_exit_disc = 5;
  update.attributes.other = {{0xe0, 99, {0xab}}};  // optional transitive partial, type 99
  update.nlri = {V4Prefix(10, 0, 0, 0, 8), V4Prefix(0, 0, 0, 0, 0)};
  ExpectGolden(update,
               "ffffffffffffffffffffffffffffffff 0033 02 0000 0019"
               "40 01 01 02"        // ORIGIN INCOMPLETE
               "40 02 00"           // empty AS_PATH (iBGP origination)
               "40 03 04 0a000001"  // NEXT_HOP
               "80 04 04 00000005"  // MULTI_EXIT_DISC 5, optional non-transitive
               "e0 63 01 ab"        // type 99 kept as given
               "08 0a"              // 10.0.0.0/8: one octet
               "00");               // 0.0.0.0/0: no octets
}

TEST(EncoderTest, UpdateIpv6InMpReachFirst) {
  UpdateMessage update;
  update.attributes.origin = Origin::kIgp;
  update.attributes.as_path = AsPath{{AsPathSegment::Type::kSequence, {Asn(65001)}}};
  update.attributes.communities = {{64512, 100}};
  update.attributes.mp_reach = MpReachNlri{kIpv6Unicast, kV6NextHop, std::nullopt, {V6Prefix48()}};
  ExpectGolden(update,
               "ffffffffffffffffffffffffffffffff 004a 02 0000 0033"
               // MP_REACH_NLRI first (RFC 7606 §5.1), optional non-transitive, 28 octets:
               // AFI 2, SAFI 1, next hop length 16, 2001:db8:ff::1, reserved 0,
               // 2001:db8:100::/48 (48 bits = 6 octets; the 0xaa past /48 is cleared).
               "80 0e 1c 0002 01 10 20010db800ff00000000000000000001 00 30 20010db80100"
               "40 01 01 00"
               "40 02 06 02 01 0000fde9"
               "c0 08 04 fc000064");
}

TEST(EncoderTest, UpdateIpv6WithLinkLocalNextHop) {
  UpdateMessage update;
  update.attributes.origin = Origin::kIgp;
  update.attributes.as_path = AsPath{};
  update.attributes.mp_reach = MpReachNlri{kIpv6Unicast, kV6NextHop, kV6LinkLocal, {}};
  ExpectGolden(update,
               "ffffffffffffffffffffffffffffffff 0046 02 0000 002f"
               "80 0e 25 0002 01 20"  // next hop length 32 (RFC 2545 §3)
               "20010db800ff00000000000000000001 fe800000000000000000000000000002 00"
               "40 01 01 00 40 02 00");
}

TEST(EncoderTest, WithdrawIpv4AndIpv6) {
  UpdateMessage v4;
  v4.withdrawn = {V4Prefix(203, 0, 113, 10, 32)};
  ExpectGolden(v4, "ffffffffffffffffffffffffffffffff 001c 02 0005 20cb00710a 0000");

  UpdateMessage v6;
  v6.attributes.mp_unreach = MpUnreachNlri{kIpv6Unicast, {V6Prefix48()}};
  ExpectGolden(v6,
               "ffffffffffffffffffffffffffffffff 0024 02 0000 000d"
               "80 0f 0a 0002 01 30 20010db80100");  // MP_UNREACH_NLRI (RFC 4760 §4)
}

TEST(EncoderTest, AsPathOnTwoOctetSessionUsesAsTransAndAs4Path) {
  UpdateMessage update;
  update.attributes.origin = Origin::kIgp;
  update.attributes.as_path =
      AsPath{{AsPathSegment::Type::kSequence, {Asn(4200000000), Asn(65001)}}};
  update.attributes.next_hop = IpAddress::V4(10, 0, 0, 1);
  update.nlri = {V4Prefix(10, 1, 0, 0, 16)};
  // RFC 6793 §4.2.2: AS_PATH with AS_TRANS for the non-mappable number, and AS4_PATH
  // (optional transitive, type 17) with the true 4-octet path.
  ExpectGolden(update,
               "ffffffffffffffffffffffffffffffff 003b 02 0000 0021"
               "40 01 01 00"
               "40 02 06 02 02 5ba0 fde9"
               "40 03 04 0a000001"
               "c0 11 0a 02 02 fa56ea00 0000fde9"
               "10 0a01",
               kTwoOctet);
}

TEST(EncoderTest, AsPathOnTwoOctetSessionWithoutLargeAsnsHasNoAs4Path) {
  UpdateMessage update;
  update.attributes.origin = Origin::kIgp;
  update.attributes.as_path = AsPath{{AsPathSegment::Type::kSequence, {Asn(65001)}}};
  update.attributes.next_hop = IpAddress::V4(10, 0, 0, 1);
  update.nlri = {V4Prefix(10, 1, 0, 0, 16)};
  ExpectGolden(update,
               "ffffffffffffffffffffffffffffffff 002c 02 0000 0012"
               "40 01 01 00 40 02 04 02 01 fde9 40 03 04 0a000001 10 0a01",
               kTwoOctet);
}

TEST(EncoderTest, As4PathLeavesOutConfederationSegmentsAndRoundTripsSets) {
  UpdateMessage update;
  update.attributes.as_path = AsPath{{AsPathSegment::Type::kConfedSequence, {Asn(65100)}},
                                     {AsPathSegment::Type::kSequence, {Asn(4200000000)}},
                                     {AsPathSegment::Type::kSet, {Asn(65001), Asn(4200000001)}}};
  auto bytes = EncodeUpdate(update, kTwoOctet);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(ToHex(*bytes), ToHex(FromHex("ffffffffffffffffffffffffffffffff 003b 02 0000 0024"
                                         "40 02 0e 03 01 fe4c 02 01 5ba0 01 02 fde9 5ba0"
                                         "c0 11 10 02 01 fa56ea00 01 02 0000fde9 fa56ea01")));
  auto decoded = Decode(*bytes, kTwoOctet);
  ASSERT_TRUE(decoded);
  // AS_PATH counts 2 (the confederation segment counts 0), AS4_PATH 2: all from AS4_PATH.
  EXPECT_EQ(*std::get<UpdateMessage>(*decoded).attributes.as_path,
            (AsPath{{AsPathSegment::Type::kSequence, {Asn(4200000000)}},
                    {AsPathSegment::Type::kSet, {Asn(65001), Asn(4200000001)}}}));
}

TEST(EncoderTest, FieldsThatDoNotFitAreErrors) {
  auto notification = EncodeNotification({6, 0, std::vector<std::uint8_t>(4076, 0)});
  ASSERT_FALSE(notification);
  EXPECT_EQ(notification.error().message, "message of 4097 octets exceeds 4096");
  EXPECT_TRUE(EncodeNotification({6, 0, std::vector<std::uint8_t>(4075, 0)}));

  OpenMessage open;
  open.asn = Asn(1);
  open.bgp_identifier = 1;
  open.capabilities.graceful_restart = GracefulRestart{.restart_time_seconds = 4096};
  auto gr = EncodeOpen(open);
  ASSERT_FALSE(gr);
  EXPECT_EQ(gr.error().message, "graceful restart time exceeds 4095");

  open.capabilities.graceful_restart.reset();
  open.capabilities.other.assign(127, RawCapability{70, {}});  // 254 octets
  auto caps = EncodeOpen(open);
  ASSERT_FALSE(caps);
  EXPECT_EQ(caps.error().message, "capabilities exceed the 255-octet optional parameters");

  UpdateMessage update;
  update.attributes.next_hop = kV6NextHop;
  auto next_hop = EncodeUpdate(update, kFourOctet);
  ASSERT_FALSE(next_hop);
  EXPECT_EQ(next_hop.error().message, "NEXT_HOP must be an IPv4 address");
}

TEST(EncoderTest, EndOfRibMarkers) {
  UpdateMessage v4;
  ExpectGolden(v4, "ffffffffffffffffffffffffffffffff 0017 02 0000 0000");  // RFC 4724 §2
  UpdateMessage v6;
  v6.attributes.mp_unreach = MpUnreachNlri{kIpv6Unicast, {}};
  ExpectGolden(v6, "ffffffffffffffffffffffffffffffff 001d 02 0000 0006 80 0f 03 0002 01");
}

// RFC 4271 §4.3: the Extended Length bit (0x10) and a 2-octet length exactly when the
// value exceeds 255 octets.
TEST(EncoderTest, ExtendedLengthSwitchesAt256Octets) {
  for (std::size_t size : {255u, 256u}) {
    UpdateMessage update;
    update.attributes.other = {{0xc0, 99, std::vector<std::uint8_t>(size, 0x5a)}};
    auto bytes = EncodeUpdate(update, kFourOctet);
    ASSERT_TRUE(bytes);
    const std::vector<std::uint8_t> head(bytes->begin() + 23, bytes->begin() + 27);
    if (size == 255) {
      EXPECT_EQ(bytes->size(), 23u + 3 + 255);
      EXPECT_EQ(ToHex(head), "c063ff5a");
    } else {
      EXPECT_EQ(bytes->size(), 23u + 4 + 256);
      EXPECT_EQ(ToHex(head), "d0630100");
    }
    auto decoded = Decode(*bytes, kFourOctet);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(std::get<UpdateMessage>(*decoded), update);
  }
}

TEST(EncoderTest, ExtendedLengthFlagOnInputIsRecomputed) {
  UpdateMessage update;
  update.attributes.other = {{0xd0, 99, {1}}};  // claims extended, value is 1 octet
  auto bytes = EncodeUpdate(update, kFourOctet);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(ToHex(*bytes), ToHex(FromHex("ffffffffffffffffffffffffffffffff 001b 02 0000 0004"
                                         "c0 63 01 01")));
}

TEST(EncoderTest, CommunitiesSwitchToExtendedLengthAt64Values) {
  UpdateMessage update;
  update.attributes.communities.assign(63, {64512, 1});  // 252 octets
  auto bytes = EncodeUpdate(update, kFourOctet);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(ToHex({bytes->begin() + 23, bytes->begin() + 26}), "c008fc");
  update.attributes.communities.assign(64, {64512, 1});  // 256 octets
  bytes = EncodeUpdate(update, kFourOctet);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(ToHex({bytes->begin() + 23, bytes->begin() + 27}), "d0080100");
}

TEST(EncoderTest, RouteWith200Communities) {
  UpdateMessage update = {};
  update.attributes = Ipv4Attributes();
  update.attributes.communities.clear();
  for (std::uint16_t i = 0; i < 200; ++i) update.attributes.communities.push_back({64512, i});
  update.nlri = {V4Prefix(203, 0, 113, 10, 32)};
  auto bytes = EncodeUpdate(update, kFourOctet);
  ASSERT_TRUE(bytes);
  // 23 + ORIGIN 4 + AS_PATH 9 + NEXT_HOP 7 + LOCAL_PREF 7 + COMMUNITIES (4 + 800)
  // + LARGE_COMMUNITY 15 + NLRI 5.
  EXPECT_EQ(bytes->size(), 23u + 4 + 9 + 7 + 7 + 804 + 15 + 5);
  const std::size_t communities = 23 + 4 + 9 + 7 + 7;
  EXPECT_EQ(ToHex({bytes->begin() + communities, bytes->begin() + communities + 8}),
            "d0080320fc000000");  // extended length 800, first value 64512:0
  auto decoded = Decode(*bytes, kFourOctet);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(std::get<UpdateMessage>(*decoded), update);
}

TEST(EncoderTest, RejectsMessagesOver4096Octets) {
  UpdateMessage update;
  update.attributes.communities.assign(1020, {1, 1});  // 4080 + 4 + 23 > 4096
  auto bytes = EncodeUpdate(update, kFourOctet);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().message, "message of 4107 octets exceeds 4096");
}

TEST(EncoderTest, RejectsPrefixOfTheWrongFamily) {
  UpdateMessage update;
  update.nlri = {V6Prefix48()};
  auto bytes = EncodeUpdate(update, kFourOctet);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().message, "NLRI holds a prefix of the wrong address family");
}

TEST(EncoderTest, LongAsSequenceIsSplitInto255NumberSegments) {
  UpdateMessage update;
  update.attributes.as_path = AsPath{{AsPathSegment::Type::kSequence, {}}};
  for (std::uint32_t i = 1; i <= 256; ++i)
    update.attributes.as_path->front().asns.push_back(Asn(i));
  auto bytes = EncodeUpdate(update, kFourOctet);
  ASSERT_TRUE(bytes);
  // 2 + 255*4 + 2 + 4 = 1028 octets of value: extended length.
  EXPECT_EQ(ToHex({bytes->begin() + 23, bytes->begin() + 29}), "5002040402ff");
  auto decoded = Decode(*bytes, kFourOctet);
  ASSERT_TRUE(decoded);
  const auto& path = *std::get<UpdateMessage>(*decoded).attributes.as_path;
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[0].asns.size(), 255u);
  EXPECT_EQ(path[1].asns, std::vector<Asn>{Asn(256)});
}

TEST(PrefixTest, MakeClearsHostBitsAndChecksLength) {
  auto p = IpPrefix::Make(IpAddress::V4(10, 1, 255, 255), 17);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->address, IpAddress::V4(10, 1, 128, 0));
  EXPECT_EQ(p->EncodedSize(), 4u);
  EXPECT_FALSE(IpPrefix::Make(IpAddress::V4(10, 0, 0, 0), 33));
  EXPECT_FALSE(IpPrefix::Make(IpAddress::V4(10, 0, 0, 0), -1));
  EXPECT_TRUE(IpPrefix::Make(kV6NextHop, 128));
  EXPECT_FALSE(IpPrefix::Make(kV6NextHop, 129));
}

}  // namespace
}  // namespace bgpcomm::speaker
