#include "speaker/update_packer.h"

#include <gtest/gtest.h>

#include "speaker/bgp_decoder.h"
#include "unit/speaker/wire_test_util.h"

namespace bgpcomm::speaker {
namespace {

using testing::FromHex;
using testing::ToHex;

constexpr CodecOptions kFourOctet{.four_octet_as = true};

IpPrefix HostRoute(std::uint32_t n) {  // 10.x.y.z/32
  return *IpPrefix::Make(
      IpAddress::V4(10, static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
                    static_cast<std::uint8_t>(n)),
      32);
}

IpPrefix V6HostRoute(std::uint32_t n) {  // 2001:db8::n/128
  IpAddress a = IpAddress::V6({0x20, 0x01, 0x0d, 0xb8});
  a.bytes[14] = static_cast<std::uint8_t>(n >> 8);
  a.bytes[15] = static_cast<std::uint8_t>(n);
  return *IpPrefix::Make(a, 128);
}

const IpAddress kV6NextHop =
    IpAddress::V6({0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

// ORIGIN 4 + AS_PATH 9 + NEXT_HOP 7 + COMMUNITIES 3 + 4*5 = 43 octets: with the 23-octet
// UPDATE frame, 4096 - 66 = 4030 octets = exactly 806 /32 prefixes of 5 octets.
PathAttributes Attributes() {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{{AsPathSegment::Type::kSequence, {Asn(65001)}}};
  a.communities.assign(5, {64512, 100});
  return a;
}
NextHops Hops() { return {IpAddress::V4(198, 51, 100, 1), kV6NextHop, std::nullopt}; }

std::vector<UpdateMessage> DecodeAll(const std::vector<Bytes>& messages) {
  std::vector<UpdateMessage> out;
  for (const Bytes& m : messages) {
    auto decoded = Decode(m, kFourOctet);
    EXPECT_TRUE(decoded) << decoded.error().message;
    if (decoded) out.push_back(std::get<UpdateMessage>(*decoded));
  }
  return out;
}

TEST(UpdatePackerTest, ExactlyFillsOneMessageThenStartsASecond) {
  std::vector<IpPrefix> prefixes;
  for (std::uint32_t i = 0; i < 806; ++i) prefixes.push_back(HostRoute(i));
  auto packed = PackAnnouncements(Attributes(), Hops(), prefixes, kFourOctet);
  ASSERT_TRUE(packed) << packed.error().message;
  ASSERT_EQ(packed->size(), 1u);
  EXPECT_EQ((*packed)[0].size(), 4096u);

  prefixes.push_back(HostRoute(806));
  packed = PackAnnouncements(Attributes(), Hops(), prefixes, kFourOctet);
  ASSERT_TRUE(packed);
  ASSERT_EQ(packed->size(), 2u);
  EXPECT_EQ((*packed)[0].size(), 4096u);
  EXPECT_EQ((*packed)[1].size(), 66u + 5);
  auto updates = DecodeAll(*packed);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].nlri.size(), 806u);
  EXPECT_EQ(updates[1].nlri, std::vector<IpPrefix>{HostRoute(806)});
  PathAttributes expected = Attributes();
  expected.next_hop = IpAddress::V4(198, 51, 100, 1);
  EXPECT_EQ(updates[0].attributes, expected);
  EXPECT_EQ(updates[1].attributes, expected);
}

TEST(UpdatePackerTest, Ipv6GoesIntoMpReachWithoutNextHop) {
  // /128 = 17 octets. Fixed: 23 + ORIGIN 4 + AS_PATH 9 + COMMUNITIES 23 = 59; MP_REACH
  // with extended length: 4 + 21 + 17n. 59 + 25 + 17n <= 4096 → n = 236 (4096 - 84 =
  // 4012 = 17 * 236 exactly).
  std::vector<IpPrefix> prefixes;
  for (std::uint32_t i = 0; i < 237; ++i) prefixes.push_back(V6HostRoute(i));
  auto packed = PackAnnouncements(Attributes(), Hops(), prefixes, kFourOctet);
  ASSERT_TRUE(packed) << packed.error().message;
  ASSERT_EQ(packed->size(), 2u);
  EXPECT_EQ((*packed)[0].size(), 4096u);
  auto updates = DecodeAll(*packed);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_TRUE(updates[0].nlri.empty());
  EXPECT_FALSE(updates[0].attributes.next_hop);
  ASSERT_TRUE(updates[0].attributes.mp_reach);
  EXPECT_EQ(updates[0].attributes.mp_reach->nlri.size(), 236u);
  EXPECT_EQ(updates[0].attributes.mp_reach->next_hop, kV6NextHop);
  EXPECT_EQ(updates[1].attributes.mp_reach->nlri, std::vector<IpPrefix>{V6HostRoute(236)});
  EXPECT_TRUE(updates[1].attribute_errors.empty());
}

TEST(UpdatePackerTest, MixedFamiliesGoIntoSeparateMessages) {
  std::vector<IpPrefix> prefixes = {V6HostRoute(1), HostRoute(1), V6HostRoute(2), HostRoute(2)};
  auto packed = PackAnnouncements(Attributes(), Hops(), prefixes, kFourOctet);
  ASSERT_TRUE(packed);
  auto updates = DecodeAll(*packed);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].nlri, (std::vector<IpPrefix>{HostRoute(1), HostRoute(2)}));
  EXPECT_FALSE(updates[0].attributes.mp_reach);
  EXPECT_EQ(updates[1].attributes.mp_reach->nlri,
            (std::vector<IpPrefix>{V6HostRoute(1), V6HostRoute(2)}));
}

TEST(UpdatePackerTest, MissingNextHopOrOversizedAttributesFail) {
  std::vector<IpPrefix> v4 = {HostRoute(1)};
  auto no_hop = PackAnnouncements(Attributes(), NextHops{}, v4, kFourOctet);
  ASSERT_FALSE(no_hop);
  EXPECT_EQ(no_hop.error().message, "IPv4 prefixes need an IPv4 next hop");
  std::vector<IpPrefix> v6 = {V6HostRoute(1)};
  no_hop = PackAnnouncements(Attributes(), NextHops{IpAddress::V4(1, 1, 1, 1)}, v6, kFourOctet);
  ASSERT_FALSE(no_hop);
  EXPECT_EQ(no_hop.error().message, "IPv6 prefixes need an IPv6 next hop");

  PathAttributes huge = Attributes();
  huge.communities.assign(1015, {1, 1});  // 4060 + 4 octets: no room for a /32
  auto too_big = PackAnnouncements(huge, Hops(), v4, kFourOctet);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().message, "path attributes leave no room for a prefix in 4096 octets");
}

TEST(UpdatePackerTest, NoPrefixesNoMessages) {
  auto packed = PackAnnouncements(Attributes(), Hops(), {}, kFourOctet);
  ASSERT_TRUE(packed);
  EXPECT_TRUE(packed->empty());
  auto withdrawn = PackWithdrawals({}, kFourOctet);
  ASSERT_TRUE(withdrawn);
  EXPECT_TRUE(withdrawn->empty());
}

TEST(UpdatePackerTest, Ipv4WithdrawalsFillTheWithdrawnRoutesField) {
  // 23 + 5n <= 4096 → n = 814 (4093 octets); the 815th starts a second message.
  std::vector<IpPrefix> prefixes;
  for (std::uint32_t i = 0; i < 815; ++i) prefixes.push_back(HostRoute(i));
  auto packed = PackWithdrawals(prefixes, kFourOctet);
  ASSERT_TRUE(packed);
  ASSERT_EQ(packed->size(), 2u);
  EXPECT_EQ((*packed)[0].size(), 4093u);
  auto updates = DecodeAll(*packed);
  EXPECT_EQ(updates[0].withdrawn.size(), 814u);
  EXPECT_EQ(updates[1].withdrawn, std::vector<IpPrefix>{HostRoute(814)});
}

TEST(UpdatePackerTest, Ipv6WithdrawalsGoIntoMpUnreach) {
  // 23 + 4 + 3 + 17n <= 4096 → n = 239 (4093 octets).
  std::vector<IpPrefix> prefixes;
  for (std::uint32_t i = 0; i < 240; ++i) prefixes.push_back(V6HostRoute(i));
  auto packed = PackWithdrawals(prefixes, kFourOctet);
  ASSERT_TRUE(packed);
  ASSERT_EQ(packed->size(), 2u);
  EXPECT_EQ((*packed)[0].size(), 4093u);
  auto updates = DecodeAll(*packed);
  EXPECT_EQ(updates[0].attributes.mp_unreach->withdrawn.size(), 239u);
  EXPECT_EQ(updates[1].attributes.mp_unreach->withdrawn, std::vector<IpPrefix>{V6HostRoute(239)});
  // A single small withdrawal: 80 0f 14 (1-octet length), AFI 2, SAFI 1, /128.
  auto one = PackWithdrawals(std::vector<IpPrefix>{V6HostRoute(1)}, kFourOctet);
  ASSERT_TRUE(one);
  EXPECT_EQ(ToHex(one->at(0)),
            ToHex(FromHex("ffffffffffffffffffffffffffffffff 002e 02 0000 0017"
                          "80 0f 14 0002 01 80 20010db8000000000000000000000001")));
}

TEST(UpdatePackerTest, EndOfRibMarkers) {
  // RFC 4724 §2.
  EXPECT_EQ(ToHex(EncodeEndOfRib(kIpv4Unicast)),
            ToHex(FromHex("ffffffffffffffffffffffffffffffff 0017 02 0000 0000")));
  EXPECT_EQ(ToHex(EncodeEndOfRib(kIpv6Unicast)),
            ToHex(FromHex("ffffffffffffffffffffffffffffffff 001d 02 0000 0006 800f03 000201")));
}

}  // namespace
}  // namespace bgpcomm::speaker
