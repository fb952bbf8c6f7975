// Malformed input → the exact NOTIFICATION (RFC 4271 §6) or the RFC 7606 outcome.
#include "speaker/bgp_decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "speaker/bgp_encoder.h"
#include "unit/speaker/wire_test_util.h"

namespace bgpcomm::speaker {
namespace {

using testing::FromHex;
using testing::Message;
using testing::ToHex;
using testing::Update;

constexpr CodecOptions kFourOctet{.four_octet_as = true};
constexpr CodecOptions kTwoOctet{.four_octet_as = false};

// Valid attributes to build UPDATEs around.
constexpr std::string_view kOrigin = "40 01 01 00";
constexpr std::string_view kAsPath = "40 02 06 02 01 0000fde9";
constexpr std::string_view kNextHop = "40 03 04 c6336401";
constexpr std::string_view kNlri = "18 c63364";  // 198.51.100.0/24

std::string Mandatory() {
  return std::string(kOrigin) + std::string(kAsPath) + std::string(kNextHop);
}

void ExpectReset(const std::vector<std::uint8_t>& bytes, std::uint8_t code, std::uint8_t subcode,
                 std::string_view data_hex = "", const CodecOptions& options = kFourOctet) {
  auto decoded = Decode(bytes, options);
  ASSERT_FALSE(decoded) << "decoded without error";
  EXPECT_EQ(decoded.error().notification.code, code) << decoded.error().message;
  EXPECT_EQ(decoded.error().notification.subcode, subcode) << decoded.error().message;
  EXPECT_EQ(ToHex(decoded.error().notification.data), ToHex(FromHex(data_hex)));
  EXPECT_FALSE(decoded.error().message.empty());
}

// Decodes an UPDATE that must survive, and returns it.
UpdateMessage DecodeUpdate(const std::vector<std::uint8_t>& bytes,
                           const CodecOptions& options = kFourOctet) {
  auto decoded = Decode(bytes, options);
  EXPECT_TRUE(decoded) << decoded.error().message;
  if (!decoded) return {};
  EXPECT_TRUE(std::holds_alternative<UpdateMessage>(*decoded));
  return std::get<UpdateMessage>(*decoded);
}

void ExpectOneError(const UpdateMessage& update, AttributeAction action, std::uint8_t type,
                    std::uint8_t subcode) {
  ASSERT_EQ(update.attribute_errors.size(), 1u);
  EXPECT_EQ(update.attribute_errors[0].action, action) << update.attribute_errors[0].message;
  EXPECT_EQ(update.attribute_errors[0].type, type) << update.attribute_errors[0].message;
  EXPECT_EQ(update.attribute_errors[0].subcode, subcode) << update.attribute_errors[0].message;
  EXPECT_EQ(update.TreatAsWithdraw(), action == AttributeAction::kTreatAsWithdraw);
}

// --- Message header (RFC 4271 §6.1) ---

TEST(DecoderHeaderTest, MarkerNotAllOnes) {
  auto bytes = FromHex("ffffffffffffffffffffffffffffff00 0013 04");
  ExpectReset(bytes, error::kMessageHeader, error::kConnectionNotSynchronized);
}

TEST(DecoderHeaderTest, LengthBelow19CarriesTheLengthField) {
  ExpectReset(FromHex("ffffffffffffffffffffffffffffffff 0012 04 00"), error::kMessageHeader,
              error::kBadMessageLength, "0012");
}

TEST(DecoderHeaderTest, LengthAbove4096CarriesTheLengthField) {
  auto bytes = FromHex("ffffffffffffffffffffffffffffffff 1001 02");
  bytes.resize(4097, 0);
  ExpectReset(bytes, error::kMessageHeader, error::kBadMessageLength, "1001");
}

TEST(DecoderHeaderTest, LengthFieldDiffersFromTheBytesGiven) {
  ExpectReset(FromHex("ffffffffffffffffffffffffffffffff 0014 04"), error::kMessageHeader,
              error::kBadMessageLength, "0014");
}

TEST(DecoderHeaderTest, ShorterThanAHeader) {
  ExpectReset(FromHex("ffffffff"), error::kMessageHeader, error::kBadMessageLength);
  ExpectReset({}, error::kMessageHeader, error::kBadMessageLength);
}

TEST(DecoderHeaderTest, UnknownTypeCarriesTheType) {
  ExpectReset(Message(6, ""), error::kMessageHeader, error::kBadMessageType, "06");
  ExpectReset(Message(0, ""), error::kMessageHeader, error::kBadMessageType, "00");
}

TEST(DecoderHeaderTest, KeepaliveWithABody) {
  ExpectReset(Message(4, "00"), error::kMessageHeader, error::kBadMessageLength, "0014");
}

TEST(DecoderHeaderTest, PerTypeMinimumLengths) {
  ExpectReset(Message(1, "04 fde9 005a c0000201"), error::kMessageHeader, error::kBadMessageLength,
              "001c");  // OPEN 28 < 29
  ExpectReset(Message(2, "0000"), error::kMessageHeader, error::kBadMessageLength, "0015");
  ExpectReset(Message(3, "06"), error::kMessageHeader, error::kBadMessageLength, "0014");
}

TEST(DecoderHeaderTest, RouteRefreshOfTheWrongLengthCarriesTheMessage) {
  auto bytes = Message(5, "0001 00 01 00");
  ExpectReset(bytes, error::kRouteRefreshMessage, error::kInvalidMessageLength, ToHex(bytes));
}

TEST(FrameLengthTest, WaitsForAHeaderThenReportsTheLength) {
  auto bytes = FromHex("ffffffffffffffffffffffffffffffff 0017 02 0000 0000");
  auto partial = FrameLength(std::span(bytes).first(18));
  ASSERT_TRUE(partial);
  EXPECT_EQ(*partial, std::nullopt);
  auto whole = FrameLength(bytes);
  ASSERT_TRUE(whole);
  EXPECT_EQ(*whole, 23u);
}

TEST(FrameLengthTest, RejectsBadMarkerAndLength) {
  auto bad_marker = FrameLength(FromHex("00ffffffffffffffffffffffffffffff 0013 04"));
  ASSERT_FALSE(bad_marker);
  EXPECT_EQ(bad_marker.error().notification.subcode, error::kConnectionNotSynchronized);
  auto bad_length = FrameLength(FromHex("ffffffffffffffffffffffffffffffff ffff 04"));
  ASSERT_FALSE(bad_length);
  EXPECT_EQ(bad_length.error().notification,
            (NotificationMessage{error::kMessageHeader, error::kBadMessageLength, {0xff, 0xff}}));
  EXPECT_EQ(bad_length.error().message, "message length 65535 is not 19..4096");
}

// --- OPEN (RFC 4271 §6.2) ---

TEST(DecoderOpenTest, UnsupportedVersionCarriesVersion4) {
  ExpectReset(Message(1, "03 fde9 005a c0000201 00"), error::kOpenMessage,
              error::kUnsupportedVersionNumber, "0004");
}

TEST(DecoderOpenTest, HoldTimeOneOrTwo) {
  ExpectReset(Message(1, "04 fde9 0001 c0000201 00"), error::kOpenMessage,
              error::kUnacceptableHoldTime);
  ExpectReset(Message(1, "04 fde9 0002 c0000201 00"), error::kOpenMessage,
              error::kUnacceptableHoldTime);
  EXPECT_TRUE(Decode(Message(1, "04 fde9 0003 c0000201 00"), kFourOctet));
}

TEST(DecoderOpenTest, ZeroIdentifier) {
  ExpectReset(Message(1, "04 fde9 005a 00000000 00"), error::kOpenMessage,
              error::kBadBgpIdentifier);
}

TEST(DecoderOpenTest, ZeroAsn) {
  ExpectReset(Message(1, "04 0000 005a c0000201 00"), error::kOpenMessage, error::kBadPeerAs);
  ExpectReset(Message(1, "04 5ba0 005a c0000201 08 02 06 41 04 00000000"), error::kOpenMessage,
              error::kBadPeerAs);
}

TEST(DecoderOpenTest, UnsupportedOptionalParameter) {
  ExpectReset(Message(1, "04 fde9 005a c0000201 04 01 02 0000"), error::kOpenMessage,
              error::kUnsupportedOptionalParameter);
}

TEST(DecoderOpenTest, OptionalParametersLengthMismatch) {
  ExpectReset(Message(1, "04 fde9 005a c0000201 05 02 02 02 00"), error::kOpenMessage,
              error::kUnspecific);
  ExpectReset(Message(1, "04 fde9 005a c0000201 00 02 02 02 00"), error::kOpenMessage,
              error::kUnspecific);
}

TEST(DecoderOpenTest, MalformedCapabilities) {
  // Parameter shorter than its capability.
  ExpectReset(Message(1, "04 fde9 005a c0000201 04 02 02 41 04"), error::kOpenMessage,
              error::kUnspecific);
  // Multiprotocol of 3 octets.
  ExpectReset(Message(1, "04 fde9 005a c0000201 07 02 05 01 03 000100"), error::kOpenMessage,
              error::kUnspecific);
  // 4-octet AS of 2 octets.
  ExpectReset(Message(1, "04 fde9 005a c0000201 06 02 04 41 02 fde9"), error::kOpenMessage,
              error::kUnspecific);
  // Route refresh with a value.
  ExpectReset(Message(1, "04 fde9 005a c0000201 05 02 03 02 01 00"), error::kOpenMessage,
              error::kUnspecific);
  // Graceful restart of 3 octets.
  ExpectReset(Message(1, "04 fde9 005a c0000201 07 02 05 40 03 000000"), error::kOpenMessage,
              error::kUnspecific);
}

TEST(DecoderOpenTest, CapabilitiesInSeparateParametersAndUnknownOnes) {
  auto decoded = Decode(Message(1,
                                "04 5ba0 00b4 0a000001 14"
                                "02 06 01 04 0002 00 01"  // IPv6 unicast
                                "02 02 80 00"             // Cisco route refresh, kept
                                "02 06 41 04 fa56ea00"),  // 4200000000
                        kFourOctet);
  ASSERT_TRUE(decoded) << decoded.error().message;
  const auto& open = std::get<OpenMessage>(*decoded);
  EXPECT_EQ(open.asn, Asn(4200000000));
  EXPECT_EQ(open.hold_time_seconds, 180);
  EXPECT_EQ(open.bgp_identifier, 0x0a000001u);
  EXPECT_EQ(open.capabilities.multiprotocol, std::vector<AfiSafi>{kIpv6Unicast});
  EXPECT_TRUE(open.capabilities.four_octet_as);
  EXPECT_FALSE(open.capabilities.route_refresh);
  EXPECT_EQ(open.capabilities.other, (std::vector<RawCapability>{{128, {}}}));
}

TEST(DecoderOpenTest, ExtendedOptionalParameters) {
  // RFC 9072: Non-Ext OP Len 255, Non-Ext OP Type 255, 2-octet lengths.
  auto decoded = Decode(Message(1, "04 fde9 005a c0000201 ff ff 0005 02 0002 02 00"), kFourOctet);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_TRUE(std::get<OpenMessage>(*decoded).capabilities.route_refresh);
}

// --- UPDATE: session resets (RFC 4271 §6.3, RFC 7606 §5.3 and §7.11) ---

TEST(DecoderUpdateTest, WithdrawnRoutesLengthOverrunsTheMessage) {
  ExpectReset(Message(2, "0005 18c63364 0000"), error::kUpdateMessage,
              error::kMalformedAttributeList);
}

TEST(DecoderUpdateTest, TotalPathAttributeLengthOverrunsTheMessage) {
  ExpectReset(Message(2, "0000 0005 40010100"), error::kUpdateMessage,
              error::kMalformedAttributeList);
}

TEST(DecoderUpdateTest, InvalidNetworkField) {
  ExpectReset(Update("", Mandatory(), "21 c6336401 00"), error::kUpdateMessage,
              error::kInvalidNetworkField);  // /33
  ExpectReset(Update("", Mandatory(), "18 c633"), error::kUpdateMessage,
              error::kInvalidNetworkField);  // /24 with 2 octets
  ExpectReset(Update("20 c63364", "", ""), error::kUpdateMessage,
              error::kInvalidNetworkField);  // withdrawn /32 with 3 octets
}

TEST(DecoderUpdateTest, UnrecognizedWellKnownAttributeCarriesTheAttribute) {
  ExpectReset(Update("", Mandatory() + "40 63 01 aa", kNlri), error::kUpdateMessage,
              error::kUnrecognizedWellKnownAttribute, "40 63 01 aa");
}

TEST(DecoderUpdateTest, MalformedMpReachResetsTheSession) {
  // IPv6 next hop of 8 octets.
  ExpectReset(Update("", "80 0e 0d 0002 01 08 0000000000000000 00", ""), error::kUpdateMessage,
              error::kOptionalAttributeError, "800e0d 000201 08 0000000000000000 00");
  // IPv6 prefix /129.
  ExpectReset(Update("", "80 0e 17 0002 01 10 20010db800ff00000000000000000001 00 81 00", ""),
              error::kUpdateMessage, error::kOptionalAttributeError,
              "800e17 000201 10 20010db800ff00000000000000000001 00 81 00");
  // Next hop length past the attribute.
  ExpectReset(Update("", "80 0e 04 0002 01 10", ""), error::kUpdateMessage,
              error::kOptionalAttributeError, "800e04 000201 10");
  // MP_UNREACH_NLRI shorter than AFI + SAFI.
  ExpectReset(Update("", "80 0f 02 0002", ""), error::kUpdateMessage,
              error::kOptionalAttributeError, "800f02 0002");
}

TEST(DecoderUpdateTest, DuplicateMpAttributeResetsTheSession) {
  ExpectReset(Update("", "80 0f 03 000201 80 0f 03 000201", ""), error::kUpdateMessage,
              error::kMalformedAttributeList);
}

TEST(DecoderUpdateTest, MpAttributeFlagsErrorResetsTheSession) {
  ExpectReset(Update("", "40 0f 03 000201", ""), error::kUpdateMessage, error::kAttributeFlagsError,
              "40 0f 03 000201");
}

// --- UPDATE: RFC 7606 treat-as-withdraw and attribute-discard ---

TEST(DecoderRfc7606Test, MalformedCommunitiesIsTreatAsWithdraw) {  // §7.8
  auto update = DecodeUpdate(Update("", Mandatory() + "c0 08 03 fc0000", kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kCommunities,
                 error::kAttributeLengthError);
  EXPECT_EQ(update.nlri.size(), 1u);  // still reported, so they can be withdrawn
  EXPECT_EQ(update.attribute_errors[0].message,
            "COMMUNITIES length 3 is not a non-zero multiple of 4");
  update = DecodeUpdate(Update("", Mandatory() + "c0 08 00", kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kCommunities,
                 error::kAttributeLengthError);
}

TEST(DecoderRfc7606Test, MalformedLargeCommunityIsTreatAsWithdraw) {  // RFC 8092 §6
  auto update = DecodeUpdate(Update("", Mandatory() + "c0 20 08 0000fc00 00000001", kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kLargeCommunity,
                 error::kAttributeLengthError);
}

TEST(DecoderRfc7606Test, MalformedLocalPrefIsTreatAsWithdraw) {  // §7.5
  auto update = DecodeUpdate(Update("", Mandatory() + "40 05 02 0064", kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kLocalPref,
                 error::kAttributeLengthError);
  EXPECT_FALSE(update.attributes.local_pref);
}

TEST(DecoderRfc7606Test, MalformedOriginNextHopAndMed) {
  auto update =
      DecodeUpdate(Update("", "40 01 01 03" + std::string(kAsPath) + std::string(kNextHop), kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kOrigin,
                 error::kInvalidOriginAttribute);
  update = DecodeUpdate(
      Update("", "40 01 02 0000" + std::string(kAsPath) + std::string(kNextHop), kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kOrigin,
                 error::kAttributeLengthError);
  update = DecodeUpdate(
      Update("", std::string(kOrigin) + std::string(kAsPath) + "40 03 05 c633640100", kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kNextHop,
                 error::kAttributeLengthError);
  update = DecodeUpdate(Update("", Mandatory() + "80 04 03 000001", kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kMultiExitDisc,
                 error::kAttributeLengthError);
}

TEST(DecoderRfc7606Test, MalformedAsPathIsTreatAsWithdraw) {  // §7.2
  for (std::string path : {
           "40 02 06 05 01 0000fde9",  // segment type 5
           "40 02 02 02 00",           // empty segment
           "40 02 05 02 01 0000fd",    // truncated number
           "40 02 01 02",              // truncated segment header
       }) {
    auto update =
        DecodeUpdate(Update("", std::string(kOrigin) + path + std::string(kNextHop), kNlri));
    ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kAsPath,
                   error::kMalformedAsPath);
  }
}

TEST(DecoderRfc7606Test, AsPathWithTwoOctetNumbersOnAFourOctetSessionIsMalformed) {
  auto update = DecodeUpdate(
      Update("", std::string(kOrigin) + "40 02 04 02 01 fde9" + std::string(kNextHop), kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kAsPath, error::kMalformedAsPath);
}

TEST(DecoderRfc7606Test, FlagsConflictIsTreatAsWithdraw) {  // §3 c
  auto update = DecodeUpdate(Update("", Mandatory() + "40 08 04 fc000064", kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kCommunities,
                 error::kAttributeFlagsError);
  EXPECT_EQ(update.attribute_errors[0].message, "COMMUNITIES flags 0x40 conflict with its type");
}

TEST(DecoderRfc7606Test, MissingWellKnownAttributesAreTreatAsWithdraw) {  // §3 d
  auto update = DecodeUpdate(Update("", std::string(kOrigin) + std::string(kAsPath), kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kNextHop,
                 error::kMissingWellKnownAttribute);
  update = DecodeUpdate(Update("", std::string(kAsPath) + std::string(kNextHop), kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kOrigin,
                 error::kMissingWellKnownAttribute);
  // An IPv6-only announcement needs no NEXT_HOP (RFC 4760 §3).
  update = DecodeUpdate(
      Update("",
             "80 0e 1c 0002 01 10 20010db800ff00000000000000000001 00 30 20010db80100" +
                 std::string(kOrigin) + std::string(kAsPath),
             ""));
  EXPECT_TRUE(update.attribute_errors.empty());
  // Withdrawals need no attributes at all.
  update = DecodeUpdate(Update("18 c63364", "", ""));
  EXPECT_TRUE(update.attribute_errors.empty());
}

TEST(DecoderRfc7606Test, AttributeOverrunningTheFieldIsTreatAsWithdraw) {  // §4
  auto update = DecodeUpdate(Update("", Mandatory() + "c0 08 08 fc000064", kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kCommunities,
                 error::kAttributeLengthError);
  ASSERT_EQ(update.nlri.size(), 1u);  // located through the Total Path Attribute Length
  update = DecodeUpdate(Update("", Mandatory() + "c0 08", kNlri));
  ExpectOneError(update, AttributeAction::kTreatAsWithdraw, attr::kCommunities,
                 error::kMalformedAttributeList);
}

TEST(DecoderRfc7606Test, AttributeDiscards) {
  // ATOMIC_AGGREGATE with a value (§7.6).
  auto update = DecodeUpdate(Update("", Mandatory() + "40 06 01 00", kNlri));
  ExpectOneError(update, AttributeAction::kAttributeDiscard, attr::kAtomicAggregate,
                 error::kAttributeLengthError);
  EXPECT_TRUE(update.attributes.other.empty());
  // AGGREGATOR of 6 octets on a 4-octet session (§7.7).
  update = DecodeUpdate(Update("", Mandatory() + "c0 07 06 fde9 0a000001", kNlri));
  ExpectOneError(update, AttributeAction::kAttributeDiscard, attr::kAggregator,
                 error::kAttributeLengthError);
  // Duplicate ORIGIN: the first stands (§3 g).
  update = DecodeUpdate(Update("", Mandatory() + "40 01 01 02", kNlri));
  ExpectOneError(update, AttributeAction::kAttributeDiscard, attr::kOrigin,
                 error::kMalformedAttributeList);
  EXPECT_EQ(update.attributes.origin, Origin::kIgp);
}

// --- AS4 on a 2-octet session (RFC 6793 §4.2.3) ---

TEST(DecoderAs4Test, MergesAs4PathIntoAsPath) {
  // AS_PATH [65010 23456 23456 65001], AS4_PATH [4200000000 4200000001 65001]: the first
  // number comes from AS_PATH, the rest from AS4_PATH.
  auto update =
      DecodeUpdate(Update("",
                          std::string(kOrigin) + "40 02 0a 02 04 fdf2 5ba0 5ba0 fde9" +
                              std::string(kNextHop) + "c0 11 0e 02 03 fa56ea00 fa56ea01 0000fde9",
                          kNlri),
                   kTwoOctet);
  EXPECT_TRUE(update.attribute_errors.empty());
  EXPECT_EQ(
      *update.attributes.as_path,
      (AsPath{{AsPathSegment::Type::kSequence, {Asn(65010)}},
              {AsPathSegment::Type::kSequence, {Asn(4200000000), Asn(4200000001), Asn(65001)}}}));
}

TEST(DecoderAs4Test, IgnoresALongerAs4Path) {
  auto update = DecodeUpdate(Update("",
                                    std::string(kOrigin) + "40 02 04 02 01 fde9" +
                                        std::string(kNextHop) + "c0 11 0a 02 02 fa56ea00 0000fde9",
                                    kNlri),
                             kTwoOctet);
  EXPECT_EQ(*update.attributes.as_path, (AsPath{{AsPathSegment::Type::kSequence, {Asn(65001)}}}));
}

TEST(DecoderAs4Test, MalformedAs4PathIsDiscarded) {
  auto update = DecodeUpdate(Update("",
                                    std::string(kOrigin) + "40 02 04 02 01 5ba0" +
                                        std::string(kNextHop) + "c0 11 03 02 01 fa",
                                    kNlri),
                             kTwoOctet);
  ExpectOneError(update, AttributeAction::kAttributeDiscard, attr::kAs4Path,
                 error::kMalformedAsPath);
  EXPECT_EQ(*update.attributes.as_path, (AsPath{{AsPathSegment::Type::kSequence, {kAsTrans}}}));
}

TEST(DecoderAs4Test, As4PathOnAFourOctetSessionIsIgnored) {
  auto update =
      DecodeUpdate(Update("", Mandatory() + "c0 11 0a 02 02 fa56ea00 0000fde9", kNlri), kFourOctet);
  EXPECT_TRUE(update.attribute_errors.empty());
  EXPECT_EQ(*update.attributes.as_path, (AsPath{{AsPathSegment::Type::kSequence, {Asn(65001)}}}));
}

// --- Decoded content ---

TEST(DecoderUpdateTest, HostBitsPastThePrefixLengthAreCleared) {
  auto update = DecodeUpdate(Update("", Mandatory(), "17 c63365"));  // /23 with a set bit
  ASSERT_EQ(update.nlri.size(), 1u);
  EXPECT_EQ(update.nlri[0], *IpPrefix::Make(IpAddress::V4(198, 51, 100, 0), 23));
}

TEST(DecoderUpdateTest, UnknownOptionalAttributesAreKeptInOrder) {
  auto update = DecodeUpdate(Update("", Mandatory() + "e0 63 01 aa 80 64 00", kNlri));
  EXPECT_TRUE(update.attribute_errors.empty());
  EXPECT_EQ(update.attributes.other,
            (std::vector<RawAttribute>{{0xe0, 99, {0xaa}}, {0x80, 100, {}}}));
}

TEST(DecoderUpdateTest, MpReachOfAnotherFamilyIsKeptRaw) {
  // AFI 1 SAFI 128 (VPN): not decoded, not an error.
  auto update = DecodeUpdate(Update("", "80 0e 05 0001 80 00 00", ""));
  EXPECT_TRUE(update.attribute_errors.empty());
  EXPECT_FALSE(update.attributes.mp_reach);
  EXPECT_EQ(update.attributes.other,
            (std::vector<RawAttribute>{{0x80, 14, {0x00, 0x01, 0x80, 0x00, 0x00}}}));
}

TEST(DecoderUpdateTest, EndOfRibIsRecognised) {
  auto v4 = DecodeUpdate(Update("", "", ""));
  EXPECT_EQ(v4.EndOfRibFamily(), kIpv4Unicast);
  auto v6 = DecodeUpdate(Update("", "80 0f 03 0002 01", ""));
  EXPECT_EQ(v6.EndOfRibFamily(), kIpv6Unicast);
  auto not_eor = DecodeUpdate(Update("18 c63364", "", ""));
  EXPECT_EQ(not_eor.EndOfRibFamily(), std::nullopt);
  // Only a malformed attribute: its contents are unknown, so it is no End-of-RIB.
  auto malformed = DecodeUpdate(Update("", "c0 08 03 fc0000", ""));
  EXPECT_EQ(malformed.EndOfRibFamily(), std::nullopt);
  auto overrun = DecodeUpdate(Update("", "80 0e", ""));
  EXPECT_EQ(overrun.EndOfRibFamily(), std::nullopt);
}

TEST(DecoderTest, NotificationAndRouteRefresh) {
  auto notification = Decode(Message(3, "03 01 00 ff"), kFourOctet);
  ASSERT_TRUE(notification);
  EXPECT_EQ(std::get<NotificationMessage>(*notification),
            (NotificationMessage{3, 1, {0x00, 0xff}}));
  auto refresh = Decode(Message(5, "0001 00 01"), kFourOctet);
  ASSERT_TRUE(refresh);
  EXPECT_EQ(std::get<RouteRefreshMessage>(*refresh), (RouteRefreshMessage{kIpv4Unicast, 0}));
}

}  // namespace
}  // namespace bgpcomm::speaker
