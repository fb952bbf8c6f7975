#include "community/value.h"

#include <gtest/gtest.h>

#include <string>

#include "community/well_known.h"

namespace bgpcomm::community {
namespace {

struct ValidCase {
  std::string text;
  std::string canonical;  // Format of the parsed value
  bool is_canonical;
};

class ParseValueValid : public testing::TestWithParam<ValidCase> {};

TEST_P(ParseValueValid, ParsesAndFormats) {
  const auto& c = GetParam();
  auto parsed = ParseValue(c.text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(Format(parsed->value), c.canonical);
  EXPECT_EQ(parsed->canonical, c.is_canonical);
  // The canonical text parses back to the same value, canonically.
  auto again = ParseValue(Format(parsed->value));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->value, parsed->value);
  EXPECT_TRUE(again->canonical);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseValueValid,
    testing::Values(
        ValidCase{"0:0", "0:0", true}, ValidCase{"64512:100", "64512:100", true},
        ValidCase{"65535:65535", "65535:65535", true}, ValidCase{"0:65535", "0:65535", true},
        ValidCase{"064512:0100", "64512:100", false}, ValidCase{"00:0", "0:0", false},
        ValidCase{"0:00000", "0:0", false}, ValidCase{"large:0:0:0", "large:0:0:0", true},
        ValidCase{"large:64512:1:100", "large:64512:1:100", true},
        ValidCase{"large:4294967295:4294967295:4294967295",
                  "large:4294967295:4294967295:4294967295", true},
        ValidCase{"large:65536:0:1", "large:65536:0:1", true},
        ValidCase{"large:00004294967295:01:0", "large:4294967295:1:0", false},
        ValidCase{"no-export", "65535:65281", true}, ValidCase{"no-advertise", "65535:65282", true},
        ValidCase{"no-export-subconfed", "65535:65283", true},
        ValidCase{"no-peer", "65535:65284", true}, ValidCase{"blackhole", "65535:666", true},
        ValidCase{"graceful-shutdown", "65535:0", true}, ValidCase{"accept-own", "65535:1", true},
        ValidCase{"llgr-stale", "65535:6", true}, ValidCase{"no-llgr", "65535:7", true}));

struct InvalidCase {
  std::string text;
  std::string message;
};

class ParseValueInvalid : public testing::TestWithParam<InvalidCase> {};

TEST_P(ParseValueInvalid, ExactMessage) {
  const auto& c = GetParam();
  auto parsed = ParseValue(c.text);
  ASSERT_FALSE(parsed.has_value()) << c.text << " parsed as " << Format(parsed->value);
  EXPECT_EQ(parsed.error(), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseValueInvalid,
    testing::Values(
        // Out of range.
        InvalidCase{"64512:70000", R"("64512:70000": second field 70000 exceeds 65535)"},
        InvalidCase{"65536:0", R"("65536:0": first field 65536 exceeds 65535)"},
        InvalidCase{"0:65536", R"("0:65536": second field 65536 exceeds 65535)"},
        InvalidCase{"4294967295:1", R"("4294967295:1": first field 4294967295 exceeds 65535)"},
        InvalidCase{"large:4294967296:1:1",
                    R"("large:4294967296:1:1": first field 4294967296 exceeds 4294967295)"},
        InvalidCase{"large:1:4294967296:1",
                    R"("large:1:4294967296:1": second field 4294967296 exceeds 4294967295)"},
        InvalidCase{
            "large:1:1:99999999999999999999",
            R"("large:1:1:99999999999999999999": third field 99999999999999999999 exceeds 4294967295)"},
        InvalidCase{"99999999999999999999:1",
                    R"("99999999999999999999:1": first field 99999999999999999999 exceeds 65535)"},
        InvalidCase{"18446744073709551617:1",
                    R"("18446744073709551617:1": first field 18446744073709551617 exceeds 65535)"},
        InvalidCase{"0065536:1", R"("0065536:1": first field 0065536 exceeds 65535)"},
        // Empty fields.
        InvalidCase{"64512:", R"("64512:": second field is empty)"},
        InvalidCase{":100", R"(":100": first field is empty)"},
        InvalidCase{":", R"(":": first field is empty)"},
        InvalidCase{"large:1::3", R"("large:1::3": second field is empty)"},
        InvalidCase{"large:::", R"("large:::": first field is empty)"},
        // Signs.
        InvalidCase{"-1:100",
                    R"("-1:100": first field -1 has a sign; only decimal digits are allowed)"},
        InvalidCase{
            "+64512:100",
            R"("+64512:100": first field +64512 has a sign; only decimal digits are allowed)"},
        InvalidCase{
            "large:1:2:-3",
            R"("large:1:2:-3": third field -3 has a sign; only decimal digits are allowed)"},
        // Hexadecimal.
        InvalidCase{
            "0xFC00:1",
            R"("0xFC00:1": first field 0xFC00 is hexadecimal; only decimal digits are allowed)"},
        InvalidCase{
            "1:0X10",
            R"("1:0X10": second field 0X10 is hexadecimal; only decimal digits are allowed)"},
        // Other non-digits.
        InvalidCase{"64512:abc", R"("64512:abc": second field abc is not a decimal number)"},
        InvalidCase{"64512:1.5", R"("64512:1.5": second field "1.5" is not a decimal number)"},
        InvalidCase{"1e3:1", R"("1e3:1": first field 1e3 is not a decimal number)"},
        // Whitespace.
        InvalidCase{"64512: 100", R"("64512: 100": second field contains whitespace)"},
        InvalidCase{" 64512:100", R"(" 64512:100": first field contains whitespace)"},
        InvalidCase{"64512:100\n", R"("64512:100\x0a": second field contains whitespace)"},
        InvalidCase{"64512\t:100", R"("64512\x09:100": first field contains whitespace)"},
        InvalidCase{"large: 1:2:3", R"("large: 1:2:3": first field contains whitespace)"},
        InvalidCase{"large :1:2:3", R"("large :1:2:3": the large prefix contains whitespace)"},
        InvalidCase{"no-export ", R"("no-export ": contains whitespace)"},
        // Field counts, one to five.
        InvalidCase{"64512", R"("64512": expected A:B or large:A:B:C, found 1 field)"},
        InvalidCase{
            "64512:1:100",
            R"("64512:1:100": expected A:B or large:A:B:C, found 3 fields; did you mean "large:64512:1:100"?)"},
        InvalidCase{"1:2:3:4", R"("1:2:3:4": expected A:B or large:A:B:C, found 4 fields)"},
        InvalidCase{"1:2:3:4:5", R"("1:2:3:4:5": expected A:B or large:A:B:C, found 5 fields)"},
        InvalidCase{"large:1", R"("large:1": expected large:A:B:C, found 1 field after "large:")"},
        InvalidCase{"large:", R"("large:": expected large:A:B:C, found 1 field after "large:")"},
        InvalidCase{"large:1:2",
                    R"("large:1:2": expected large:A:B:C, found 2 fields after "large:")"},
        InvalidCase{"large:1:2:3:4",
                    R"("large:1:2:3:4": expected large:A:B:C, found 4 fields after "large:")"},
        // The prefix is lowercase.
        InvalidCase{"LARGE:1:2:3", R"("LARGE:1:2:3": the prefix LARGE must be lowercase "large")"},
        InvalidCase{"Large:1:2:3", R"("Large:1:2:3": the prefix Large must be lowercase "large")"},
        // Names.
        InvalidCase{"", R"("": empty value; expected A:B, large:A:B:C or a well-known name)"},
        InvalidCase{
            "no-exprot",
            R"("no-exprot": not a community value (A:B or large:A:B:C) or a well-known name; did you mean "no-export"?)"},
        InvalidCase{
            "NO-EXPORT",
            R"("NO-EXPORT": not a community value (A:B or large:A:B:C) or a well-known name; did you mean "no-export"?)"},
        InvalidCase{
            "primary-route",
            R"("primary-route": not a community value (A:B or large:A:B:C) or a well-known name)"},
        InvalidCase{std::string("6\0:1", 4),
                    R"("6\x00:1": first field "6\x00" is not a decimal number)"},
        InvalidCase{"\"",
                    R"("\"": not a community value (A:B or large:A:B:C) or a well-known name)"}));

TEST(ParseValue, OrdinalsBeyondTenth) {
  std::string eleven = "1:2:3:4:5:6:7:8:9:10:11 ";
  EXPECT_EQ(ParseValue(eleven).error(),
            R"("1:2:3:4:5:6:7:8:9:10:11 ": 11th field contains whitespace)");
  std::string many;
  for (int i = 1; i <= 21; ++i) many += std::to_string(i) + ":";
  many += " ";
  EXPECT_EQ(ParseValue(many).error(), "\"" + many + "\": 22nd field contains whitespace");
}

TEST(ParseValue, HugeInputIsAMessage) {
  std::string huge(1 << 20, '9');
  auto parsed = ParseValue(huge + ":1");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_TRUE(parsed.error().ends_with(" exceeds 65535"));
  EXPECT_FALSE(ParseValue(std::string(1 << 20, 'x')).has_value());
}

TEST(ParseLiteral, RejectsWellKnownNames) {
  auto parsed = ParseLiteral("no-export");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error(), R"("no-export": expected A:B or large:A:B:C, found 1 field)");
  EXPECT_EQ(ParseLiteral("").error(), R"("": empty value; expected A:B or large:A:B:C)");
}

TEST(ParseLiteral, SameMessagesAsParseValue) {
  EXPECT_EQ(ParseLiteral("64512:70000").error(), ParseValue("64512:70000").error());
  ASSERT_TRUE(ParseLiteral("064512:0100").has_value());
  EXPECT_FALSE(ParseLiteral("064512:0100")->canonical);
}

TEST(ParseValue, ExactValues) {
  auto standard = ParseValue("64512:100");
  ASSERT_TRUE(standard.has_value());
  EXPECT_EQ(std::get<StandardCommunity>(standard->value), (StandardCommunity{64512, 100}));
  EXPECT_EQ(std::get<StandardCommunity>(standard->value).Raw(), 0xfc000064u);
  auto large = ParseValue("large:64512:1:100");
  ASSERT_TRUE(large.has_value());
  EXPECT_EQ(std::get<LargeCommunity>(large->value), (LargeCommunity{64512, 1, 100}));
}

TEST(Format, Kinds) {
  EXPECT_EQ(Format(StandardCommunity{65535, 65281}), "65535:65281");
  EXPECT_EQ(Format(LargeCommunity{4294967295u, 0, 7}), "large:4294967295:0:7");
  EXPECT_EQ(Format(CommunityValue{StandardCommunity::FromRaw(0xfc0000c8u)}), "64512:200");
}

TEST(LooksLikeLiteral, Colon) {
  EXPECT_TRUE(LooksLikeLiteral("64512:100"));
  EXPECT_TRUE(LooksLikeLiteral("a:b"));
  EXPECT_TRUE(LooksLikeLiteral(":"));
  EXPECT_FALSE(LooksLikeLiteral("no-export"));
  EXPECT_FALSE(LooksLikeLiteral("64512"));
  EXPECT_FALSE(LooksLikeLiteral(""));
}

TEST(Quote, EscapesUntrustedBytes) {
  EXPECT_EQ(Quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quote("\x01\xff"), R"("\x01\xff")");
  EXPECT_EQ(Quote(""), R"("")");
}

TEST(WellKnown, TableAndLookups) {
  ASSERT_EQ(WellKnownCommunities().size(), 9u);
  EXPECT_EQ(WellKnownCommunities()[0].name, "no-export");
  EXPECT_EQ(LookupWellKnown("no-peer"), (StandardCommunity{65535, 65284}));
  EXPECT_EQ(LookupWellKnown("No-Export"), std::nullopt);
  EXPECT_EQ(WellKnownName(StandardCommunity{65535, 666}), "blackhole");
  EXPECT_EQ(WellKnownName(StandardCommunity{64512, 666}), std::nullopt);
}

struct RangeCase {
  StandardCommunity value;
  std::optional<std::string> warning;
};

class RangeWarningTable : public testing::TestWithParam<RangeCase> {};

TEST_P(RangeWarningTable, Exact) { EXPECT_EQ(RangeWarning(GetParam().value), GetParam().warning); }

INSTANTIATE_TEST_SUITE_P(
    Table, RangeWarningTable,
    testing::Values(
        RangeCase{{0, 0}, "0:0 is in the reserved range 0:0-0:65535 (RFC 1997)"},
        RangeCase{{0, 100}, "0:100 is in the reserved range 0:0-0:65535 (RFC 1997)"},
        RangeCase{{65535, 100},
                  "65535:100 is in the well-known range 65535:0-65535:65535 (RFC 1997) but is not "
                  "an assigned well-known community"},
        RangeCase{{65535, 65281}, std::nullopt}, RangeCase{{65535, 0}, std::nullopt},
        RangeCase{{1, 0}, std::nullopt}, RangeCase{{64512, 100}, std::nullopt},
        RangeCase{{65534, 65535}, std::nullopt}));

}  // namespace
}  // namespace bgpcomm::community
