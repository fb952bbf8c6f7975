#include "speaker/prefix_conversion.h"

#include <gtest/gtest.h>

namespace bgpcomm::speaker {
namespace {

TEST(PrefixConversionTest, RoundTripsBothFamilies) {
  community::Prefix v4;
  v4.address.bytes = {203, 0, 113, 0};
  v4.length = 24;
  auto p = FromCommunityPrefix(v4);
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, *IpPrefix::Make(IpAddress::V4(203, 0, 113, 0), 24));
  EXPECT_EQ(ToCommunityPrefix(*p), v4);

  community::Prefix v6;
  v6.address.v6 = true;
  v6.address.bytes = {0x20, 0x01, 0x0d, 0xb8};
  v6.length = 32;
  p = FromCommunityPrefix(v6);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->afi(), Afi::kIpv6);
  EXPECT_EQ(ToCommunityPrefix(*p), v6);
}

TEST(PrefixConversionTest, RejectsOutOfRangeLengths) {
  community::Prefix bad;
  bad.length = 33;
  EXPECT_FALSE(FromCommunityPrefix(bad));
}

}  // namespace
}  // namespace bgpcomm::speaker
