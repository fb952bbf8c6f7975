#include "cli/set_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/report.h"
#include "manifest/loader.h"

namespace bgpcomm::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

manifest::ManifestSet Load(const std::string& text) {
  manifest::ManifestSet set;
  manifest::LoadText(text, "set.yaml", set);
  EXPECT_TRUE(set.ok());
  return set;
}

std::vector<std::string> Format(const manifest::ManifestSet& set, const SetJudgment& judgment) {
  std::vector<std::string> out;
  for (const Finding& finding : judgment.findings) out.push_back(FormatFinding(set, finding));
  return out;
}

TEST(SetCheckTest, GroupsByNamespaceWithDefault) {
  manifest::ManifestSet set = Load(R"(apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: a}
spec:
  communities: [{name: x, value: "1:1"}]
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: b, namespace: other}
spec:
  communities: [{name: y, value: "1:2"}]
---
apiVersion: v1
kind: Service
metadata: {name: s}
)");
  NamespaceStates states = BuildNamespaces(set, "metallb-system");
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states.at("metallb-system").objects.communities.size(), 1u);
  EXPECT_NE(states.at("metallb-system").aliases.Find("x"), nullptr);
  EXPECT_EQ(states.at("metallb-system").aliases.Find("y"), nullptr);
  EXPECT_NE(states.at("other").aliases.Find("y"), nullptr);
  EXPECT_EQ(std::get<community::CommunityObject>(set.documents[0].object).meta.namespace_name,
            "metallb-system");
  EXPECT_EQ(EffectiveNamespace(set.documents[1], "metallb-system"), "other");
}

TEST(SetCheckTest, AliasOfAnotherNamespaceDoesNotResolve) {
  manifest::ManifestSet set = Load(R"(apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: c, namespace: other}
spec:
  communities: [{name: edge, value: "1:1"}]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a}
spec:
  communities:
    - edge
)");
  NamespaceStates states = BuildNamespaces(set, "metallb-system");
  SetJudgment judgment = JudgeSet(set, states, {});
  EXPECT_EQ(judgment.errors, 2u);
  EXPECT_EQ(judgment.objects, 2u);
  std::vector<std::string> lines = Format(set, judgment);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("set.yaml:3: Community/c: metadata.namespace: error: "));
  EXPECT_THAT(lines[1], HasSubstr("set.yaml:12: BGPAdvertisement/a: spec.communities[0]: error: "
                                  "\"edge\""));
}

TEST(SetCheckTest, DecodeProblemsComeFirstAndCount) {
  manifest::ManifestSet set = Load(R"(apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: r}
spec:
  myASN: "64512"
  peerASN: 64513
  peerAddress: 198.51.100.2
  extra: true
)");
  SetJudgment judgment = JudgeSet(set, BuildNamespaces(set, "metallb-system"), {});
  std::vector<std::string> lines = Format(set, judgment);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "set.yaml:5: BGPPeer/r: spec.myASN: error: must be an integer, got string \"64512\"");
  EXPECT_EQ(lines[1],
            "set.yaml:8: BGPPeer/r: spec.extra: warning: unknown field; the API server drops it or "
            "rejects the object");
  EXPECT_GE(judgment.errors, 1u);
  EXPECT_GE(judgment.warnings, 1u);
}

TEST(ReportTest, LoadErrorFormat) {
  EXPECT_EQ(FormatLoadError({"a.yaml", 3, "malformed YAML: x"}),
            "a.yaml:3: error: malformed YAML: x");
  EXPECT_EQ(FormatLoadError({"a.yaml", 0, "no such file or directory"}),
            "a.yaml: error: no such file or directory");
}

TEST(ReportTest, UnnamedObject) {
  manifest::ManifestSet set =
      Load("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {}\n");
  SetJudgment judgment = JudgeSet(set, BuildNamespaces(set, "metallb-system"), {});
  std::vector<std::string> lines = Format(set, judgment);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "set.yaml:3: IPAddressPool/<unnamed>: metadata.name: error: is required");
}

}  // namespace
}  // namespace bgpcomm::cli
