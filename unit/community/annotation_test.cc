#include "community/annotation.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
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

Advertisement Advert(std::vector<std::string> communities, std::string annotation = "") {
  Advertisement advertisement;
  advertisement.meta.name = "primary-advert";
  advertisement.meta.namespace_name = "metallb-system";
  advertisement.communities = std::move(communities);
  if (!annotation.empty()) {
    advertisement.meta.annotations[std::string(kResolvedAnnotation)] = annotation;
  }
  return advertisement;
}

constexpr char kPrimary[] =
    R"({"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]})";

TEST(EncodeAnnotation, ExactCompactKeyOrder) {
  Resolution resolution{
      {"primary-route", "region-us-east"}, {"64512:100", "large:64512:1:100"}, {}};
  EXPECT_EQ(EncodeAnnotation(resolution), kPrimary);
  Resolution open{{"primary-route", "later"}, {"64512:100"}, {"later"}};
  EXPECT_EQ(
      EncodeAnnotation(open),
      R"({"from":["primary-route","later"],"communities":["64512:100"],"unresolved":["later"]})");
  EXPECT_EQ(EncodeAnnotation(Resolution{}), R"({"from":[],"communities":[]})");
}

TEST(EncodeAnnotation, EscapesAndSurvivesInvalidUtf8) {
  Resolution resolution{{"a\"b", "\xff"}, {}, {"a\"b", "\xff"}};
  EXPECT_EQ(EncodeAnnotation(resolution),
            "{\"from\":[\"a\\\"b\",\"\xEF\xBF\xBD\"],\"communities\":[],\"unresolved\":[\"a\\\"b\","
            "\"\xEF\xBF\xBD\"]}");
}

// Printable ASCII takes the RapidJSON path, everything else nlohmann's: the text is the
// same either way, byte for byte (nlohmann's dump is the format's reference).
TEST(EncodeAnnotation, SameTextOnBothPathsForRandomEntries) {
  std::mt19937 random(20261203);
  const std::string alphabet = std::string("abz09:-._ \"\\/{}[],\x7e\x20") + "\x01\n\t\x7f\xc3\xa9\xff";
  auto entry = [&] {
    std::string out;
    for (int n = static_cast<int>(random() % 12); n > 0; --n) out += alphabet[random() % alphabet.size()];
    return out;
  };
  auto entries = [&] {
    std::vector<std::string> out;
    for (int n = static_cast<int>(random() % 4); n > 0; --n) out.push_back(entry());
    return out;
  };
  for (int i = 0; i < 5000; ++i) {
    Resolution resolution{entries(), entries(), entries()};
    nlohmann::ordered_json reference = nlohmann::ordered_json::object();
    reference["from"] = resolution.from;
    reference["communities"] = resolution.communities;
    if (!resolution.unresolved.empty()) reference["unresolved"] = resolution.unresolved;
    ASSERT_EQ(EncodeAnnotation(resolution),
              reference.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace))
        << "case " << i;
  }
}

TEST(DecodeAnnotation, RoundTrip) {
  auto decoded = DecodeAnnotation(kPrimary);
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(decoded->from, (std::vector<std::string>{"primary-route", "region-us-east"}));
  EXPECT_EQ(decoded->communities, (std::vector<std::string>{"64512:100", "large:64512:1:100"}));
  EXPECT_TRUE(decoded->unresolved.empty());
  EXPECT_EQ(EncodeAnnotation(*decoded), kPrimary);
  // Key order and whitespace do not matter when reading.
  auto spaced =
      DecodeAnnotation(R"( { "communities" : [ ] , "from" : [ "x" ], "unresolved": ["x"] } )");
  ASSERT_TRUE(spaced.has_value()) << spaced.error();
  EXPECT_EQ(spaced->unresolved, std::vector<std::string>{"x"});
}

struct DecodeError {
  std::string text;
  std::string message;
};

class DecodeErrors : public testing::TestWithParam<DecodeError> {};

TEST_P(DecodeErrors, ExactMessage) {
  auto decoded = DecodeAnnotation(GetParam().text);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, DecodeErrors,
    testing::Values(
        DecodeError{"", "not valid JSON"}, DecodeError{"{", "not valid JSON"},
        DecodeError{R"({"from":[]}x)", "not valid JSON"}, DecodeError{"[]", "not a JSON object"},
        DecodeError{"\"x\"", "not a JSON object"},
        DecodeError{R"({"communities":[]})", R"(missing key "from")"},
        DecodeError{R"({"from":[]})", R"(missing key "communities")"},
        DecodeError{R"({"from":"a","communities":[]})", R"("from" is not an array of strings)"},
        DecodeError{R"({"from":[1],"communities":[]})", R"("from" is not an array of strings)"},
        DecodeError{R"({"from":[],"communities":[null]})",
                    R"("communities" is not an array of strings)"},
        DecodeError{R"({"from":[],"communities":[],"unresolved":{}})",
                    R"("unresolved" is not an array of strings)"},
        DecodeError{R"({"from":[],"communities":[],"extra":1})", R"(unknown key "extra")"},
        DecodeError{
            R"({"from":[],"communities":["primary-route"]})",
            R"(communities[0]: "primary-route": expected A:B or large:A:B:C, found 1 field)"},
        DecodeError{R"({"from":[],"communities":["1:1","01:1"]})",
                    R"(communities[1]: "01:1" is not canonical)"}));

TEST(DecodeAnnotation, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  EXPECT_FALSE(DecodeAnnotation(deep).has_value());
}

TEST(ComputeStored, AnnotationModeKeepsSpec) {
  AliasTable aliases = Walkthrough();
  Diagnostics out;
  auto stored = ComputeStored(Advert({"primary-route", "region-us-east"}), nullptr, aliases,
                              UnresolvedPolicy::kReject, ExpandMode::kAnnotation, out);
  EXPECT_TRUE(out.items.empty());
  EXPECT_EQ(stored.spec_communities, (std::vector<std::string>{"primary-route", "region-us-east"}));
  EXPECT_EQ(stored.Annotation(), kPrimary);
  EXPECT_EQ(stored.resolution.communities,
            (std::vector<std::string>{"64512:100", "large:64512:1:100"}));
}

TEST(ComputeStored, AnnotationModeResolvesWhatTheUserWrote) {
  // Replacing an alias by its literal in annotation mode is a real change of `from`.
  AliasTable aliases = Walkthrough();
  Diagnostics out;
  Advertisement old = Advert({"primary-route", "region-us-east"}, kPrimary);
  Advertisement submitted = Advert({"64512:100", "large:64512:1:100"}, kPrimary);
  auto stored = ComputeStored(submitted, &old, aliases, UnresolvedPolicy::kReject,
                              ExpandMode::kAnnotation, out);
  EXPECT_EQ(stored.resolution.from, submitted.communities);
  EXPECT_EQ(stored.spec_communities, submitted.communities);
}

TEST(ComputeStored, InPlaceExpandsSpec) {
  AliasTable aliases = Walkthrough();
  Diagnostics out;
  auto stored = ComputeStored(Advert({"primary-route", "region-us-east", "later", "64512:100"}),
                              nullptr, aliases, UnresolvedPolicy::kWarn, ExpandMode::kInPlace, out);
  EXPECT_FALSE(out.HasErrors());
  EXPECT_EQ(stored.spec_communities,
            (std::vector<std::string>{"64512:100", "large:64512:1:100", "later"}));
  EXPECT_EQ(stored.resolution.from,
            (std::vector<std::string>{"primary-route", "region-us-east", "later", "64512:100"}));
  EXPECT_EQ(
      stored.Annotation(),
      R"({"from":["primary-route","region-us-east","later","64512:100"],"communities":["64512:100","large:64512:1:100"],"unresolved":["later"]})");
}

TEST(ComputeStored, InPlaceReadModifyWriteKeepsFrom) {
  AliasTable aliases = Walkthrough();
  // The stored object after an in-place expansion, read back and written again (e.g. a
  // label change): spec.communities equals the annotation's communities.
  Advertisement stored_object = Advert({"64512:100", "large:64512:1:100"}, kPrimary);
  for (bool annotation_on_submitted : {true, false}) {
    Diagnostics out;
    Advertisement submitted =
        Advert({"64512:100", "large:64512:1:100"}, annotation_on_submitted ? kPrimary : "");
    auto stored = ComputeStored(submitted, &stored_object, aliases, UnresolvedPolicy::kReject,
                                ExpandMode::kInPlace, out);
    EXPECT_TRUE(out.items.empty());
    EXPECT_EQ(stored.resolution.from,
              (std::vector<std::string>{"primary-route", "region-us-east"}));
    EXPECT_EQ(stored.Annotation(), kPrimary);
    EXPECT_EQ(stored.spec_communities, submitted.communities);
  }
}

TEST(ComputeStored, InPlaceNewEntriesAreResolvedAgain) {
  AliasTable aliases = Walkthrough();
  Diagnostics out;
  Advertisement old = Advert({"64512:100", "large:64512:1:100"}, kPrimary);
  Advertisement submitted = Advert({"backup-route"}, kPrimary);
  auto stored =
      ComputeStored(submitted, &old, aliases, UnresolvedPolicy::kReject, ExpandMode::kInPlace, out);
  EXPECT_EQ(stored.resolution.from, std::vector<std::string>{"backup-route"});
  EXPECT_EQ(stored.spec_communities, std::vector<std::string>{"64512:200"});
  EXPECT_EQ(stored.Annotation(), R"({"from":["backup-route"],"communities":["64512:200"]})");
}

TEST(ComputeStored, ReportsResolutionProblemsWithNamespace) {
  AliasTable aliases = Walkthrough();
  Diagnostics out;
  ComputeStored(Advert({"primary-rout"}), nullptr, aliases, UnresolvedPolicy::kReject,
                ExpandMode::kAnnotation, out);
  ASSERT_EQ(out.items.size(), 1u);
  EXPECT_EQ(
      out.items[0].ToString(),
      R"(spec.communities[0]: "primary-rout" is not a community value, well-known name or alias defined in namespace metallb-system; did you mean "primary-route"?)");
}

TEST(ReferencedEntries, SpecOrFromWhenExpanded) {
  EXPECT_EQ(ReferencedEntries(Advert({"primary-route", "region-us-east"}, kPrimary)),
            (std::vector<std::string>{"primary-route", "region-us-east"}));
  EXPECT_EQ(ReferencedEntries(Advert({"64512:100", "large:64512:1:100"}, kPrimary)),
            (std::vector<std::string>{"primary-route", "region-us-east"}));
  EXPECT_EQ(ReferencedEntries(Advert({"backup-route"}, kPrimary)),
            std::vector<std::string>{"backup-route"});
  EXPECT_EQ(ReferencedEntries(Advert({"backup-route"})), std::vector<std::string>{"backup-route"});
  EXPECT_EQ(ReferencedEntries(Advert({"64512:100"}, "not json")),
            std::vector<std::string>{"64512:100"});
}

TEST(AnnouncedCommunities, AnnouncesOnlyWhatIsCurrent) {
  auto announced = AnnouncedCommunities(Advert({"primary-route", "region-us-east"}, kPrimary));
  ASSERT_TRUE(announced.has_value()) << announced.error().message;
  EXPECT_EQ(*announced, (std::vector<CommunityValue>{StandardCommunity{64512, 100},
                                                     LargeCommunity{64512, 1, 100}}));
  // In-place: spec equals `communities`.
  EXPECT_TRUE(AnnouncedCommunities(Advert({"64512:100", "large:64512:1:100"}, kPrimary)));
}

struct RefusalCase {
  std::vector<std::string> spec;
  std::string annotation;
  std::string reason;
  RefusalKind kind;
};

class AnnouncedRefusals : public testing::TestWithParam<RefusalCase> {};

TEST_P(AnnouncedRefusals, Reason) {
  auto announced = AnnouncedCommunities(Advert(GetParam().spec, GetParam().annotation));
  ASSERT_FALSE(announced.has_value());
  EXPECT_EQ(announced.error().message, GetParam().reason);
  EXPECT_EQ(announced.error().kind, GetParam().kind);
}

INSTANTIATE_TEST_SUITE_P(
    Table, AnnouncedRefusals,
    testing::Values(
        RefusalCase{{"primary-route"}, "", "annotation bgpcomm.io/resolved-communities is missing",
                    RefusalKind::kMissing},
        RefusalCase{{"primary-route"},
                    "{",
                    "annotation bgpcomm.io/resolved-communities is unreadable: not valid JSON",
                    RefusalKind::kUnreadable},
        RefusalCase{{"backup-route"},
                    kPrimary,
                    "annotation bgpcomm.io/resolved-communities is stale: spec.communities equals "
                    "neither its \"from\" nor its \"communities\"",
                    RefusalKind::kStale},
        RefusalCase{
            {"primary-route", "later"},
            R"({"from":["primary-route","later"],"communities":["64512:100"],"unresolved":["later"]})",
            R"(unresolved entries: "later")", RefusalKind::kUnresolved}));

TEST(RefusalKindName, Labels) {
  EXPECT_EQ(RefusalKindName(RefusalKind::kMissing), "missing");
  EXPECT_EQ(RefusalKindName(RefusalKind::kUnreadable), "unreadable");
  EXPECT_EQ(RefusalKindName(RefusalKind::kStale), "stale");
  EXPECT_EQ(RefusalKindName(RefusalKind::kUnresolved), "unresolved");
  EXPECT_EQ(RefusalKindName(RefusalKind::kInvalid), "invalid");
}

}  // namespace
}  // namespace bgpcomm::community
