#include "cli/lint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "unit/cli/cli_test_util.h"

namespace bgpcomm::cli {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Lines;
using testing::RunBgpcomm;
using ::testing::StartsWith;

class LintTest : public testing::ScratchTest {};

constexpr char kPool[] = R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: pool
spec:
  addresses: [203.0.113.0/28]
)";

TEST_F(LintTest, WalkthroughIsCleanWithWarnings) {
  std::string dir = CopyWalkthrough();
  auto result = RunBgpcomm({"lint", dir});
  EXPECT_EQ(result.code, 0) << result.out << result.err;
  EXPECT_THAT(result.err, IsEmpty());
  EXPECT_THAT(
      Lines(result.out),
      ElementsAre(
          AllOf(StartsWith(dir + "/01-community.yaml:12: Community/my-communities: "
                                 "spec.communities[2].name: warning: "),
                HasSubstr("blackhole")),
          AllOf(StartsWith(dir + "/03-bgp-advertisement.yaml:9: BGPAdvertisement/primary-advert: "
                                 "spec.communities: warning: "),
                HasSubstr("backup-advert"), HasSubstr("production-pool")),
          AllOf(StartsWith(dir + "/04-bgp-advertisement-backup.yaml:9: "
                                 "BGPAdvertisement/backup-advert: spec.communities: warning: "),
                HasSubstr("primary-advert"), HasSubstr("production-pool"))));
}

TEST_F(LintTest, MisspelledAliasNamesFileLineFieldAndSuggestion) {
  std::string dir = CopyWalkthrough();
  Edit("walkthrough/03-bgp-advertisement.yaml", "- primary-route", "- primary-rout");
  auto result = RunBgpcomm({"lint", dir + "/"});
  EXPECT_EQ(result.code, 1);
  std::vector<std::string> errors;
  for (const std::string& line : Lines(result.out)) {
    if (line.find(": error: ") != std::string::npos) errors.push_back(line);
  }
  EXPECT_THAT(errors, ElementsAre(AllOf(
                          StartsWith(dir + "/03-bgp-advertisement.yaml:10: "
                                           "BGPAdvertisement/primary-advert: spec.communities[0]: "
                                           "error: \"primary-rout\" is not "),
                          EndsWith("did you mean \"primary-route\"?"))));
}

TEST_F(LintTest, WrongFieldTypesAreErrorsWithPathAndLine) {
  std::string file = Write("adv.yaml", std::string(kPool) + R"(---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: adv
spec:
  ipAddressPools: [pool]
  aggregationLength: "abc"
  communities: no-export
)");
  auto result = RunBgpcomm({"lint", file});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(Lines(result.out),
              ElementsAre(file + ":14: BGPAdvertisement/adv: spec.aggregationLength: error: must "
                                 "be an integer, got string \"abc\"",
                          file + ":15: BGPAdvertisement/adv: spec.communities: error: must be a "
                                 "list, got string \"no-export\""));
}

TEST_F(LintTest, AliasesFromOtherFilesResolveAsOneSet) {
  Write("a/community.yaml", R"(apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: c
spec:
  communities:
    - name: edge
      value: "64512:7"
)");
  Write("b/adv.json", R"({"apiVersion": "metallb.io/v1beta1", "kind": "BGPAdvertisement",
  "metadata": {"name": "adv"},
  "spec": {"ipAddressPools": ["pool"], "communities": ["edge", "no-export"]}})");
  Write("b/pool.yml", kPool);
  auto result = RunBgpcomm({"lint", dir_.string()});
  EXPECT_EQ(result.code, 0) << result.out;
  EXPECT_THAT(result.out, IsEmpty());
}

TEST_F(LintTest, ObjectsWithoutNamespaceGetTheFlagNamespace) {
  std::string file = Write("pool.yaml", kPool);
  EXPECT_EQ(RunBgpcomm({"lint", file}).out, "");
  // Judged in `other` and served in `other`: still clean.
  EXPECT_EQ(RunBgpcomm({"lint", "--namespace", "other", file}).out, "");
  // The walkthrough names metallb-system; bgpcomm configured for `other` denies it, as
  // MetalLB denies objects outside its namespace.
  auto result = RunBgpcomm({"lint", "--namespace", "other", CopyWalkthrough()});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.out, HasSubstr("02-ip-pool.yaml:5: IPAddressPool/production-pool: "
                                    "metadata.namespace: error: resource must be created in "
                                    "other namespace, not in metallb-system"));
}

TEST_F(LintTest, UnresolvedAliasesWarnMode) {
  std::string dir = CopyWalkthrough();
  Edit("walkthrough/03-bgp-advertisement.yaml", "- primary-route", "- primary-rout");
  auto result = RunBgpcomm({"lint", "--unresolved-aliases", "warn", dir});
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(result.out, HasSubstr("/03-bgp-advertisement.yaml:10: "
                                    "BGPAdvertisement/primary-advert: spec.communities[0]: "
                                    "warning: \"primary-rout\""));
}

TEST_F(LintTest, KindListIsExpanded) {
  std::string file = Write("list.yaml", R"(apiVersion: v1
kind: List
items:
  - apiVersion: metallb.io/v1beta1
    kind: IPAddressPool
    metadata:
      name: p
    spec:
      addresses:
        - 10.0.0.0/33
)");
  auto result = RunBgpcomm({"lint", file});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(Lines(result.out),
              ElementsAre(StartsWith(file + ":10: IPAddressPool/p: spec.addresses[0]: error: ")));
}

// Other kinds are ignored; MetalLB's Layer 2 kinds are named as not judged.
TEST_F(LintTest, OtherKindsAreIgnored) {
  std::string file = Write("other.yaml", R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: x
data:
  aggregationLength: "abc"
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: l2
spec:
  whatever: [1, 2]
)");
  auto result = RunBgpcomm({"lint", file});
  EXPECT_EQ(result.code, 0);
  EXPECT_EQ(result.out, file +
                            ":9: L2Advertisement/l2: kind: warning: L2Advertisement is not judged: "
                            "bgpcomm serves MetalLB's BGP mode only, and nothing in this set "
                            "checks Layer 2 objects\n");
}

TEST_F(LintTest, DuplicateObjectsWarn) {
  std::string a = Write("a.yaml", kPool);
  std::string b = Write("b.yaml", kPool);
  auto result = RunBgpcomm({"lint", a, b});
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(Lines(result.out),
              ElementsAre(b +
                          ":4: IPAddressPool/pool: metadata.name: warning: IPAddressPool/pool "
                          "is also defined at " +
                          a + ":1; applying both keeps only the last"));
}

TEST_F(LintTest, MissingFileIsUnreadable) {
  auto result = RunBgpcomm({"lint", Path("nope.yaml")});
  EXPECT_EQ(result.code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, Path("nope.yaml") + ": error: no such file or directory\n");
}

TEST_F(LintTest, MalformedYamlIsUnreadableWithLine) {
  std::string good = Write("good.yaml", kPool);
  std::string bad = Write("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n");
  auto result = RunBgpcomm({"lint", good, bad});
  EXPECT_EQ(result.code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            bad +
                ":5: error: malformed YAML: did not find expected ',' or ']' (column 1), while "
                "parsing a flow sequence that starts at line 4, column 9\n");
}

TEST_F(LintTest, JsonOutput) {
  std::string dir = CopyWalkthrough();
  Edit("walkthrough/03-bgp-advertisement.yaml", "- primary-route", "- primary-rout");
  auto result = RunBgpcomm({"lint", "--output", "json", dir});
  EXPECT_EQ(result.code, 1);
  auto report = nlohmann::json::parse(result.out);
  ASSERT_TRUE(report["diagnostics"].is_array());
  const auto& counts = report["counts"];
  EXPECT_EQ(counts["files"], 6);
  EXPECT_EQ(counts["objects"], 5);
  EXPECT_EQ(counts["errors"], 1);
  EXPECT_EQ(counts["unreadable"], 0);
  nlohmann::json error;
  for (const auto& d : report["diagnostics"]) {
    if (d["severity"] == "error") error = d;
  }
  EXPECT_EQ(error["file"], dir + "/03-bgp-advertisement.yaml");
  EXPECT_EQ(error["line"], 10);
  EXPECT_EQ(error["kind"], "BGPAdvertisement");
  EXPECT_EQ(error["name"], "primary-advert");
  EXPECT_EQ(error["namespace"], "metallb-system");
  EXPECT_EQ(error["field"], "spec.communities[0]");
  EXPECT_THAT(error["message"].get<std::string>(), EndsWith("did you mean \"primary-route\"?"));
  // Keys in a fixed order.
  EXPECT_THAT(result.out, HasSubstr("\"file\": \"" + dir +
                                    "/03-bgp-advertisement.yaml\",\n"
                                    "      \"line\": 10,\n      \"kind\": \"BGPAdvertisement\""));
}

TEST_F(LintTest, JsonOutputOfUnreadableInput) {
  auto result = RunBgpcomm({"lint", "--output", "json", Path("nope")});
  EXPECT_EQ(result.code, 2);
  auto report = nlohmann::json::parse(result.out);
  ASSERT_EQ(report["diagnostics"].size(), 1u);
  EXPECT_EQ(report["diagnostics"][0]["message"], "no such file or directory");
  EXPECT_EQ(report["counts"]["unreadable"], 1);
}

TEST_F(LintTest, InvalidUtf8IsUnreadable) {
  std::string file = Write("bad.yaml",
                           "apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\n"
                           "metadata: {name: a}\nspec:\n  aggregationLength: \"\xff\xfe\"\n");
  auto text = RunBgpcomm({"lint", file});
  EXPECT_EQ(text.code, 2);
  EXPECT_EQ(text.err, file + ":5: error: not valid UTF-8 (column 23)\n");
  auto json = RunBgpcomm({"lint", "--output", "json", file});
  EXPECT_EQ(json.code, 2);
  EXPECT_NO_THROW(nlohmann::json::parse(json.out));
}

TEST_F(LintTest, UsageErrors) {
  EXPECT_EQ(RunBgpcomm({"lint"}).code, 2);
  EXPECT_EQ(RunBgpcomm({"lint", "--output", "xml", "x"}).code, 2);
  EXPECT_EQ(RunBgpcomm({"lint", "--unresolved-aliases", "maybe", "x"}).code, 2);
  EXPECT_EQ(RunBgpcomm({}).code, 2);
  auto help = RunBgpcomm({"lint", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("--unresolved-aliases"));
}

TEST_F(LintTest, RunLintDirectly) {
  CheckOptions options;
  options.paths = {Write("pool.yaml", kPool)};
  std::ostringstream out, err;
  EXPECT_EQ(RunLint(options, out, err), kExitClean);
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace bgpcomm::cli
