#include "community/resolve.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bgpcomm::community {
namespace {

AliasTable Walkthrough() {
  CommunityObject object;
  object.meta.name = "my-communities";
  object.meta.namespace_name = "metallb-system";
  object.aliases = {{"primary-route", "64512:100"},
                    {"backup-route", "64512:200"},
                    {"blackhole", "64512:666"},
                    {"region-us-east", "large:64512:1:100"}};
  std::vector<CommunityObject> objects = {object};
  return AliasTable::Build(objects);
}

std::vector<std::string> Strings(const std::vector<Diagnostic>& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) out.push_back(d.ToString());
  return out;
}

struct ResolveCase {
  std::string name;
  std::vector<std::string> entries;
  UnresolvedPolicy policy;
  std::vector<std::string> communities;
  std::vector<std::string> unresolved;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

class ResolveTable : public testing::TestWithParam<ResolveCase> {};

TEST_P(ResolveTable, Exact) {
  const auto& c = GetParam();
  AliasTable aliases = Walkthrough();
  Diagnostics out;
  Resolution resolution =
      Resolve(c.entries, aliases, c.policy, "spec.communities", out, "metallb-system");
  EXPECT_EQ(resolution.from, c.entries);
  EXPECT_EQ(resolution.communities, c.communities);
  EXPECT_EQ(resolution.unresolved, c.unresolved);
  EXPECT_EQ(Strings(out.Errors()), c.errors);
  EXPECT_EQ(Strings(out.Warnings()), c.warnings);
}

constexpr auto kReject = UnresolvedPolicy::kReject;
constexpr auto kWarn = UnresolvedPolicy::kWarn;

INSTANTIATE_TEST_SUITE_P(
    Table, ResolveTable,
    testing::Values(
        ResolveCase{"WalkthroughPrimary",
                    {"primary-route", "region-us-east"},
                    kReject,
                    {"64512:100", "large:64512:1:100"},
                    {},
                    {},
                    {}},
        ResolveCase{"Empty", {}, kReject, {}, {}, {}, {}},
        ResolveCase{"LiteralsAndWellKnown",
                    {"64512:300", "large:1:2:3", "no-export"},
                    kReject,
                    {"64512:300", "large:1:2:3", "65535:65281"},
                    {},
                    {},
                    {}},
        ResolveCase{"AliasShadowsWellKnown", {"blackhole"}, kReject, {"64512:666"}, {}, {}, {}},
        ResolveCase{"NonCanonicalLiteral",
                    {"064512:0100"},
                    kReject,
                    {"64512:100"},
                    {},
                    {},
                    {R"(spec.communities[0]: "064512:0100" is stored as 64512:100)"}},
        ResolveCase{"InvalidLiteral",
                    {"primary-route", "64512:70000"},
                    kWarn,
                    {"64512:100"},
                    {},
                    {R"(spec.communities[1]: "64512:70000": second field 70000 exceeds 65535)"},
                    {}},
        ResolveCase{
            "TypoRejected",
            {"primary-rout"},
            kReject,
            {},
            {},
            {R"(spec.communities[0]: "primary-rout" is not a community value, well-known name or alias defined in namespace metallb-system; did you mean "primary-route"?)"},
            {}},
        ResolveCase{
            "TypoWarned",
            {"primary-rout", "backup-route"},
            kWarn,
            {"64512:200"},
            {"primary-rout"},
            {},
            {R"(spec.communities[0]: "primary-rout" is not a community value, well-known name or alias defined in namespace metallb-system; it stays unresolved until a Community defines it; did you mean "primary-route"?)"}},
        ResolveCase{
            "WellKnownSuggestion",
            {"no-exprt"},
            kReject,
            {},
            {},
            {R"(spec.communities[0]: "no-exprt" is not a community value, well-known name or alias defined in namespace metallb-system; did you mean "no-export"?)"},
            {}},
        ResolveCase{
            "NoSuggestion",
            {"something-else"},
            kReject,
            {},
            {},
            {R"(spec.communities[0]: "something-else" is not a community value, well-known name or alias defined in namespace metallb-system)"},
            {}},
        ResolveCase{
            "BareNumber",
            {"100"},
            kReject,
            {},
            {},
            {R"(spec.communities[0]: "100" is not a community value, well-known name or alias defined in namespace metallb-system; a standard community is written A:B, e.g. 64512:100)"},
            {}},
        ResolveCase{"EmptyEntry",
                    {""},
                    kWarn,
                    {},
                    {},
                    {"spec.communities[0]: empty entry; expected A:B, large:A:B:C, a well-known "
                     "name or an alias"},
                    {}},
        ResolveCase{
            "Duplicates",
            {"backup-route", "64512:200", "backup-route", "0064512:200"},
            kReject,
            {"64512:200"},
            {},
            {},
            {R"(spec.communities[1]: "64512:200" duplicates spec.communities[0]; it is announced once)",
             R"(spec.communities[2]: "backup-route" (64512:200) duplicates spec.communities[0]; it is announced once)",
             R"(spec.communities[3]: "0064512:200" is stored as 64512:200)",
             R"(spec.communities[3]: "0064512:200" (64512:200) duplicates spec.communities[0]; it is announced once)"}},
        ResolveCase{
            "DuplicateKeepsFirstOrder",
            {"64512:2", "64512:1", "64512:2"},
            kReject,
            {"64512:2", "64512:1"},
            {},
            {},
            {R"(spec.communities[2]: "64512:2" duplicates spec.communities[0]; it is announced once)"}},
        ResolveCase{
            "ReservedAndUnassigned",
            {"0:100", "65535:100", "00:1"},
            kReject,
            {"0:100", "65535:100", "0:1"},
            {},
            {},
            {"spec.communities[0]: 0:100 is in the reserved range 0:0-0:65535 (RFC 1997)",
             "spec.communities[1]: 65535:100 is in the well-known range "
             "65535:0-65535:65535 (RFC 1997) but is not an assigned well-known community",
             R"(spec.communities[2]: "00:1" is stored as 0:1)",
             R"(spec.communities[2]: "00:1": 0:1 is in the reserved range 0:0-0:65535 (RFC 1997))"}},
        ResolveCase{
            "BlackholeAlone",
            {"64512:1", "65535:666"},
            kReject,
            {"64512:1", "65535:666"},
            {},
            {},
            {R"(spec.communities[1]: "65535:666" is not combined with no-export or no-advertise; RFC 7999 §3.2 asks for one so that the blackholed prefix does not propagate further)"}},
        ResolveCase{"BlackholeWithNoExport",
                    {"65535:666", "no-export"},
                    kReject,
                    {"65535:666", "65535:65281"},
                    {},
                    {},
                    {}},
        ResolveCase{"BlackholeWithNoAdvertise",
                    {"no-advertise", "65535:666"},
                    kReject,
                    {"65535:65282", "65535:666"},
                    {},
                    {},
                    {}}),
    [](const auto& info) { return info.param.name; });

TEST(Resolve, WellKnownBlackholeWithoutAlias) {
  AliasTable none;
  Diagnostics out;
  std::vector<std::string> entries = {"blackhole"};
  Resolution resolution =
      Resolve(entries, none, UnresolvedPolicy::kReject, "spec.communities", out);
  EXPECT_EQ(resolution.communities, std::vector<std::string>{"65535:666"});
  ASSERT_EQ(out.items.size(), 1u);
  EXPECT_EQ(
      out.items[0].ToString(),
      R"(spec.communities[0]: "blackhole" (65535:666) is not combined with no-export or no-advertise; RFC 7999 §3.2 asks for one so that the blackholed prefix does not propagate further)");
}

TEST(Resolve, WithoutNamespaceSaysThisNamespace) {
  AliasTable none;
  Diagnostics out;
  std::vector<std::string> entries = {"primary-route"};
  Resolve(entries, none, UnresolvedPolicy::kReject, "spec.communities", out);
  ASSERT_EQ(out.items.size(), 1u);
  EXPECT_EQ(
      out.items[0].message,
      R"("primary-route" is not a community value, well-known name or alias defined in this namespace)");
}

TEST(Resolve, UnresolvedListedOnce) {
  AliasTable none;
  Diagnostics out;
  std::vector<std::string> entries = {"later", "later"};
  Resolution resolution = Resolve(entries, none, UnresolvedPolicy::kWarn, "spec.communities", out);
  EXPECT_EQ(resolution.unresolved, std::vector<std::string>{"later"});
  EXPECT_FALSE(out.HasErrors());
}

TEST(ResolveEntry, Order) {
  AliasTable aliases = Walkthrough();
  EXPECT_EQ(Format(*ResolveEntry("blackhole", aliases)), "64512:666");
  EXPECT_EQ(Format(*ResolveEntry("blackhole", AliasTable{})), "65535:666");
  EXPECT_EQ(Format(*ResolveEntry("064512:1", aliases)), "64512:1");
  EXPECT_EQ(ResolveEntry("64512:70000", aliases), std::nullopt);
  EXPECT_EQ(ResolveEntry("unknown", aliases), std::nullopt);
}

TEST(EditDistance, Levenshtein) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("primary-rout", "primary-route"), 1u);
  EXPECT_EQ(EditDistance("primary-route", "primray-route"), 2u);
}

TEST(Suggest, CloseEnoughOnly) {
  std::vector<std::string_view> candidates = {"backup-route", "primary-route", "no-export"};
  EXPECT_EQ(Suggest("primary-rout", candidates), "primary-route");
  EXPECT_EQ(Suggest("backup-rooute", candidates), "backup-route");
  EXPECT_EQ(Suggest("No-Export", candidates), "no-export");
  EXPECT_EQ(Suggest("tertiary", candidates), std::nullopt);
  EXPECT_EQ(Suggest("ab", std::vector<std::string_view>{"ac"}), "ac");  // limit is 1
  EXPECT_EQ(Suggest("ab", std::vector<std::string_view>{"cd"}), std::nullopt);
  EXPECT_EQ(Suggest("x", std::vector<std::string_view>{}), std::nullopt);
  // Ties go to the first candidate.
  EXPECT_EQ(Suggest("ab", std::vector<std::string_view>{"ac", "bb"}), "ac");
  // Very long names get no suggestion (and no quadratic work).
  std::string long_name(300, 'a');
  std::string long_candidate(299, 'a');
  EXPECT_EQ(Suggest(long_name, std::vector<std::string_view>{long_candidate}), std::nullopt);
}

}  // namespace
}  // namespace bgpcomm::community
