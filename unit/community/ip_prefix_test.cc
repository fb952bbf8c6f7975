#include "community/ip_prefix.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bgpcomm::community {
namespace {

struct AddressCase {
  std::string text;
  std::string formatted;  // empty: invalid
};

class AddressTable : public testing::TestWithParam<AddressCase> {};

TEST_P(AddressTable, ParseAndFormat) {
  const auto& c = GetParam();
  auto address = ParseAddress(c.text);
  if (c.formatted.empty()) {
    ASSERT_FALSE(address.has_value()) << Format(*address);
    EXPECT_EQ(address.error(), "\"" + c.text + "\" is not an IP address");
    return;
  }
  ASSERT_TRUE(address.has_value()) << address.error();
  EXPECT_EQ(Format(*address), c.formatted);
}

INSTANTIATE_TEST_SUITE_P(
    Table, AddressTable,
    testing::Values(
        AddressCase{"203.0.113.10", "203.0.113.10"}, AddressCase{"0.0.0.0", "0.0.0.0"},
        AddressCase{"255.255.255.255", "255.255.255.255"},
        // RFC 5952: lowercase, no leading zeros, longest zero run compressed, first on a tie,
        // a single zero group is not compressed.
        AddressCase{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        AddressCase{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        AddressCase{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        AddressCase{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"}, AddressCase{"::", "::"},
        AddressCase{"::1", "::1"}, AddressCase{"1::", "1::"}, AddressCase{"fe80::1:2", "fe80::1:2"},
        AddressCase{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
        AddressCase{"::192.0.2.1", "::c000:201"}, AddressCase{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
        // Invalid.
        AddressCase{"256.0.0.1", ""}, AddressCase{"1.2.3", ""}, AddressCase{"1.2.3.4.5", ""},
        AddressCase{"01.2.3.4", ""}, AddressCase{"1.2.3.4 ", ""}, AddressCase{"", ""},
        AddressCase{"1::2::3", ""}, AddressCase{":1", ""}, AddressCase{"1:", ""},
        AddressCase{"1:2:3:4:5:6:7:8:9", ""}, AddressCase{"1:2:3:4:5:6:7::8", ""},
        AddressCase{"12345::", ""}, AddressCase{"g::", ""}, AddressCase{"fe80::1%eth0", ""},
        AddressCase{"1.2.3.4::", ""}));

TEST(ParsePrefix, ClearsHostBits) {
  auto prefix = ParsePrefix("203.0.113.5/28");
  ASSERT_TRUE(prefix.has_value());
  EXPECT_EQ(Format(*prefix), "203.0.113.0/28");
  EXPECT_EQ(Format(*ParsePrefix("2001:db8::1/64")), "2001:db8::/64");
  EXPECT_EQ(Format(*ParsePrefix("0.0.0.0/0")), "0.0.0.0/0");
  EXPECT_EQ(Format(*ParsePrefix("::/128")), "::/128");
}

struct ErrorCase {
  std::string text;
  std::string message;
};

class PrefixErrors : public testing::TestWithParam<ErrorCase> {};

TEST_P(PrefixErrors, ExactMessage) {
  auto prefix = ParsePrefix(GetParam().text);
  ASSERT_FALSE(prefix.has_value());
  EXPECT_EQ(prefix.error(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PrefixErrors,
    testing::Values(
        ErrorCase{"10.0.0.0", R"("10.0.0.0" is not a CIDR (address/length))"},
        ErrorCase{"10.0.0.0/33", R"("10.0.0.0/33": prefix length "33" is not a number in 0..32)"},
        ErrorCase{"::/129", R"("::/129": prefix length "129" is not a number in 0..128)"},
        ErrorCase{"10.0.0.0/", R"("10.0.0.0/": prefix length "" is not a number in 0..32)"},
        ErrorCase{"10.0.0.0/-1", R"("10.0.0.0/-1": prefix length "-1" is not a number in 0..32)"},
        ErrorCase{"10.0.0/8", R"("10.0.0/8": "10.0.0" is not an IP address)"}));

struct PoolCase {
  std::string text;
  std::vector<std::string> prefixes;
  std::string error;
};

class PoolEntries : public testing::TestWithParam<PoolCase> {};

TEST_P(PoolEntries, CoverOrMessage) {
  const auto& c = GetParam();
  auto entry = ParsePoolEntry(c.text);
  if (!c.error.empty()) {
    ASSERT_FALSE(entry.has_value());
    EXPECT_EQ(entry.error(), c.error);
    return;
  }
  ASSERT_TRUE(entry.has_value()) << entry.error();
  std::vector<std::string> formatted;
  for (const auto& prefix : *entry) formatted.push_back(Format(prefix));
  EXPECT_EQ(formatted, c.prefixes);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PoolEntries,
    testing::Values(
        PoolCase{"203.0.113.0/28", {"203.0.113.0/28"}, ""},
        PoolCase{"203.0.113.0-203.0.113.15", {"203.0.113.0/28"}, ""},
        PoolCase{"203.0.113.1-203.0.113.10",
                 {"203.0.113.1/32", "203.0.113.2/31", "203.0.113.4/30", "203.0.113.8/31",
                  "203.0.113.10/32"},
                 ""},
        PoolCase{"192.168.9.1 - 192.168.9.1", {"192.168.9.1/32"}, ""},
        PoolCase{"0.0.0.0-255.255.255.255", {"0.0.0.0/0"}, ""},
        PoolCase{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", {"::/0"}, ""},
        PoolCase{"2001:db8::-2001:db8::ff", {"2001:db8::/120"}, ""},
        PoolCase{"2001:db8::/64", {"2001:db8::/64"}, ""},
        PoolCase{"10.0.0.10-10.0.0.1",
                 {},
                 R"("10.0.0.10-10.0.0.1": first address 10.0.0.10 is after last address 10.0.0.1)"},
        PoolCase{"10.0.0.1-2001:db8::1",
                 {},
                 R"("10.0.0.1-2001:db8::1": first and last address are of different families)"},
        PoolCase{"10.0.0.1-10.0.0",
                 {},
                 R"("10.0.0.1-10.0.0": last address "10.0.0" is not an IP address)"},
        PoolCase{"x-10.0.0.1", {}, R"("x-10.0.0.1": first address "x" is not an IP address)"},
        PoolCase{"10.0.0.1",
                 {},
                 R"("10.0.0.1" is neither a CIDR (address/length) nor a range (first-last))"},
        PoolCase{
            "10.0.0.0/40", {}, R"("10.0.0.0/40": prefix length "40" is not a number in 0..32)"}));

TEST(Prefix, TruncateAndContains) {
  auto address = *ParseAddress("203.0.113.10");
  EXPECT_EQ(Format(Truncate(address, 28)), "203.0.113.0/28");
  EXPECT_EQ(Format(Truncate(address, 32)), "203.0.113.10/32");
  EXPECT_EQ(Format(Truncate(address, 0)), "0.0.0.0/0");
  auto pool = *ParsePrefix("203.0.113.0/28");
  EXPECT_TRUE(Contains(pool, address));
  EXPECT_FALSE(Contains(pool, *ParseAddress("203.0.113.16")));
  EXPECT_FALSE(Contains(*ParsePrefix("::/0"), address));
  EXPECT_TRUE(Contains(*ParsePrefix("::/0"), *ParseAddress("2001:db8::1")));
}

}  // namespace
}  // namespace bgpcomm::community
