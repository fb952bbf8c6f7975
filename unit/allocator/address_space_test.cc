#include "allocator/address_space.h"

#include <gtest/gtest.h>

#include <limits>

namespace bgpcomm::allocator::internal {
namespace {

Range R(std::string_view cidr) { return ToRange(*community::ParsePrefix(cidr)); }
Addr A(std::string_view text) { return FromIp(*community::ParseAddress(text)); }

TEST(AddressSpace, RangeOfACidr) {
  Range r = R("198.51.100.8/29");
  EXPECT_EQ(Format(r.first), "198.51.100.8");
  EXPECT_EQ(Format(r.last), "198.51.100.15");
  Range v6 = R("2001:db8::/64");
  EXPECT_EQ(Format(v6.last), "2001:db8::ffff:ffff:ffff:ffff");
  Range all = R("::/0");
  EXPECT_EQ(Format(all.last), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(AddressSpace, LowestFreeTakesAndReleases) {
  FreeSet free;
  Range r = R("198.51.100.0/30");
  free.AddRange(r);
  EXPECT_EQ(Format(*free.LowestFree(r, false)), "198.51.100.0");
  ASSERT_TRUE(free.Take(A("198.51.100.0")));
  ASSERT_TRUE(free.Take(A("198.51.100.2")));
  EXPECT_FALSE(free.Take(A("198.51.100.2")));
  EXPECT_EQ(Format(*free.LowestFree(r, false)), "198.51.100.1");
  ASSERT_TRUE(free.Take(A("198.51.100.1")));
  EXPECT_EQ(Format(*free.LowestFree(r, false)), "198.51.100.3");
  ASSERT_TRUE(free.Take(A("198.51.100.3")));
  EXPECT_FALSE(free.LowestFree(r, false).has_value());
  free.Release(A("198.51.100.2"));
  free.Release(A("198.51.100.1"));
  EXPECT_EQ(free.intervals(), 1u);  // merged again
  EXPECT_EQ(Format(*free.LowestFree(r, false)), "198.51.100.1");
}

TEST(AddressSpace, AvoidBuggySkipsDotZeroAndDot255) {
  FreeSet free;
  Range r = R("198.51.100.0/23");
  free.AddRange(r);
  EXPECT_EQ(Format(*free.LowestFree(r, true)), "198.51.100.1");
  // Take everything below .255, then the next is 198.51.101.1 (skipping .255 and .0).
  for (int i = 1; i < 255; ++i) ASSERT_TRUE(free.Take(A("198.51.100." + std::to_string(i))));
  EXPECT_EQ(Format(*free.LowestFree(r, true)), "198.51.101.1");
  // An interval of .0/.255 only was met and forgotten: such a pool never hands it out.
  EXPECT_EQ(Format(*free.LowestFree(r, false)), "198.51.100.255");
}

TEST(AddressSpace, ABigIpv6RangeIsNotWalked) {
  FreeSet free;
  Range r = R("2001:db8::/32");
  free.AddRange(r);
  for (int i = 0; i < 1000; ++i) {
    auto a = free.LowestFree(r, false);
    ASSERT_TRUE(a);
    ASSERT_TRUE(free.Take(*a));
  }
  EXPECT_EQ(Format(*free.LowestFree(r, false)), "2001:db8::3e8");
  EXPECT_EQ(free.intervals(), 1u);
}

TEST(AddressSpace, LowestFreeStaysInsideTheRange) {
  FreeSet free;
  Range a = R("198.51.100.0/31");
  Range b = R("198.51.100.2/31");
  free.AddRange(a);
  free.AddRange(b);
  EXPECT_EQ(free.intervals(), 1u);
  ASSERT_TRUE(free.Take(A("198.51.100.0")));
  ASSERT_TRUE(free.Take(A("198.51.100.1")));
  EXPECT_FALSE(free.LowestFree(a, false).has_value());
  EXPECT_EQ(Format(*free.LowestFree(b, false)), "198.51.100.2");
}

TEST(AddressSpace, CapacityAsMetalLBCountsIt) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(Capacity(R("198.51.100.0/24"), false), 256);
  EXPECT_EQ(Capacity(R("198.51.100.0/24"), true), 254);
  EXPECT_EQ(Capacity(R("198.18.0.0/16"), true), 65536 - 512);
  EXPECT_EQ(Capacity(R("198.51.100.0/30"), true), 3);    // .0 only
  EXPECT_EQ(Capacity(R("198.51.100.252/30"), true), 3);  // .255 only
  EXPECT_EQ(Capacity(R("198.51.100.4/30"), true), 4);
  EXPECT_EQ(Capacity(R("198.51.100.255/32"), true), 0);  // one address, counted once
  EXPECT_EQ(Capacity(R("2001:db8::/120"), true), 256);   // IPv6 has no buggy addresses
  EXPECT_EQ(Capacity(R("2001:db8::/66"), false), kMax);  // 2^62 addresses
  EXPECT_EQ(Capacity(R("2001:db8::/67"), false), std::int64_t{1} << 61);
  EXPECT_EQ(Capacity(R("2001:db8::/64"), false), kMax);
  EXPECT_EQ(SaturatingAdd(kMax, 5), kMax);
}

}  // namespace
}  // namespace bgpcomm::allocator::internal
