#include "community/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace bgpcomm::community {
namespace {

using std::chrono::nanoseconds;

struct Valid {
  const char* text;
  std::int64_t nanos;
};

constexpr std::int64_t kS = 1'000'000'000;

class ParseGoDurationValid : public ::testing::TestWithParam<Valid> {};

TEST_P(ParseGoDurationValid, ReadsAsGoDoes) {
  auto parsed = ParseGoDuration(GetParam().text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->count(), GetParam().nanos) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseGoDurationValid,
    ::testing::Values(
        Valid{"0", 0}, Valid{"-0", 0}, Valid{"+0", 0}, Valid{"0s", 0}, Valid{"90s", 90 * kS},
        Valid{"1m30s", 90 * kS}, Valid{"1.5m", 90 * kS}, Valid{"90000ms", 90 * kS},
        Valid{"2m0.5s", 120 * kS + kS / 2}, Valid{"-90s", -90 * kS}, Valid{"+90s", 90 * kS},
        Valid{"5.s", 5 * kS}, Valid{".5s", kS / 2}, Valid{"1.004s", 1'004'000'000},
        Valid{"100.00100s", 100'001'000'000}, Valid{"10ns", 10}, Valid{"11us", 11'000},
        Valid{"12\xc2\xb5s", 12'000}, Valid{"12\xce\xbcs", 12'000}, Valid{"13ms", 13'000'000},
        Valid{"15m", 900 * kS}, Valid{"16h", 16 * 3600 * kS}, Valid{"3h30m", 12600 * kS},
        Valid{"10.5s4m", 250 * kS + kS / 2}, Valid{"-2m3.4s", -(123 * kS + 400'000'000)},
        Valid{"1h2m3s4ms5us6ns", 3723 * kS + 4'005'006},
        Valid{"0.3333333333333333333h", 1200 * kS},
        Valid{"9223372036854775807ns", INT64_MAX},
        Valid{"9223372036854775.807us", INT64_MAX},
        Valid{"9223372036854ms775us807ns", INT64_MAX},
        Valid{"-9223372036854775808ns", INT64_MIN}, Valid{"0.100000000000000000000h", 360 * kS},
        Valid{"2562047h", 2'562'047LL * 3600 * kS}));

struct Invalid {
  const char* text;
  const char* error;
};

class ParseGoDurationInvalid : public ::testing::TestWithParam<Invalid> {};

TEST_P(ParseGoDurationInvalid, SaysWhy) {
  auto parsed = ParseGoDuration(GetParam().text);
  ASSERT_FALSE(parsed.has_value()) << GetParam().text << " read as " << parsed->count();
  EXPECT_EQ(parsed.error(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseGoDurationInvalid,
    ::testing::Values(Invalid{"", "no number in \"\""}, Invalid{"-", "no number in \"-\""},
                      Invalid{"90", "missing unit in \"90\""},
                      Invalid{"1m30", "missing unit in \"1m30\""},
                      Invalid{"s", "expected a number in \"s\""},
                      Invalid{".", "expected a number in \".\""},
                      Invalid{".s", "expected a number in \".s\""},
                      Invalid{"1d", "unknown unit \"d\" (use ns, us, ms, s, m or h) in \"1d\""},
                      Invalid{"30 s",
                              "unknown unit \" s\" (use ns, us, ms, s, m or h) in \"30 s\""},
                      Invalid{"1.5.5s", "missing unit in \"1.5.5s\""},
                      Invalid{"9223372036854775808ns", "overflow in \"9223372036854775808ns\""},
                      Invalid{"9223372036854775.808us", "overflow in \"9223372036854775.808us\""},
                      Invalid{"-9223372036854775809ns",
                              "overflow in \"-9223372036854775809ns\""},
                      Invalid{"2562048h", "overflow in \"2562048h\""},
                      Invalid{"99999999999999999999s", "overflow in \"99999999999999999999s\""}));

TEST(FormatGoDurationTest, AsGoPrintsIt) {
  EXPECT_EQ(FormatGoDuration(nanoseconds(0)), "0s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(90 * kS)), "1m30s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(3600 * kS)), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(kS + kS / 2)), "1.5s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(300'000'000)), "300ms");
  EXPECT_EQ(FormatGoDuration(nanoseconds(1'500)), "1.5\xc2\xb5s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(7)), "7ns");
  EXPECT_EQ(FormatGoDuration(nanoseconds(-123 * kS - 400'000'000)), "-2m3.4s");
  EXPECT_EQ(FormatGoDuration(nanoseconds(INT64_MIN)), "-2562047h47m16.854775808s");
}

TEST(FormatGoDurationTest, RoundTrips) {
  for (const char* text : {"1m30s", "2m0.5s", "1h2m3.004005006s", "300ms", "-5s"}) {
    auto parsed = ParseGoDuration(text);
    ASSERT_TRUE(parsed.has_value()) << parsed.error();
    EXPECT_EQ(FormatGoDuration(*parsed), text);
  }
}

}  // namespace
}  // namespace bgpcomm::community
