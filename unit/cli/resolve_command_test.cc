#include "cli/resolve_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "manifest/loader.h"
#include "manifest/object_decoder.h"
#include "manifest/yaml_tree.h"
#include "manifest/yaml_writer.h"
#include "unit/cli/cli_test_util.h"

namespace bgpcomm::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Lines;
using ::testing::Not;
using testing::RunBgpcomm;

class ResolveTest : public testing::ScratchTest {};

constexpr char kPrimaryAnnotation[] =
    "    bgpcomm.io/resolved-communities: "
    "'{\"from\":[\"primary-route\",\"region-us-east\"],\"communities\":[\"64512:100\","
    "\"large:64512:1:100\"]}'";

TEST_F(ResolveTest, WalkthroughGainsAnnotations) {
  std::string dir = CopyWalkthrough();
  auto result = RunBgpcomm({"resolve", dir});
  ASSERT_EQ(result.code, 0) << result.err;
  // Warnings go to stderr, in lint's format.
  EXPECT_THAT(result.err,
              HasSubstr("/03-bgp-advertisement.yaml:9: BGPAdvertisement/primary-advert: "
                        "spec.communities: warning: "));
  std::vector<std::string> lines = Lines(result.out);
  EXPECT_THAT(lines, ::testing::Contains(kPrimaryAnnotation));
  EXPECT_THAT(lines, ::testing::Contains(
                         "    bgpcomm.io/resolved-communities: "
                         "'{\"from\":[\"backup-route\"],\"communities\":[\"64512:200\"]}'"));
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "---"), 5);

  // Six documents in input order; all but the advertisements keep their content.
  auto parsed = manifest::ParseYamlStream(result.out);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  const std::vector<manifest::YamlNodePtr>& docs = *parsed;
  ASSERT_EQ(docs.size(), 6u);
  using manifest::FieldOf;
  const char* files[] = {"01-community.yaml",         "02-ip-pool.yaml",
                         "03-bgp-advertisement.yaml", "04-bgp-advertisement-backup.yaml",
                         "05-bgp-peer.yaml",          "06-service.yaml"};
  for (int i = 0; i < 6; ++i) {
    std::ifstream file(dir + "/" + files[i]);
    std::stringstream text;
    text << file.rdbuf();
    auto originals = manifest::ParseYamlStream(text.str());
    ASSERT_TRUE(originals.has_value() && originals->size() == 1) << files[i];
    const manifest::YamlNode& original = *originals->front();
    EXPECT_EQ(FieldOf(*docs[i], "kind").text(), FieldOf(original, "kind").text());
    if (i == 2 || i == 3) {
      EXPECT_EQ(FieldOf(FieldOf(*docs[i], "spec"), "communities").size(),
                FieldOf(FieldOf(original, "spec"), "communities").size());
      continue;
    }
    EXPECT_EQ(manifest::WriteYaml(*docs[i]).value_or("a"), manifest::WriteYaml(original).value_or("b"))
        << files[i];
  }
  // Quoted strings stay strings.
  EXPECT_THAT(result.out, HasSubstr("      value: '64512:100'\n"));
}

TEST_F(ResolveTest, ExactAdvertisementDocument) {
  std::string dir = CopyWalkthrough();
  auto result =
      RunBgpcomm({"resolve", dir + "/01-community.yaml", dir + "/03-bgp-advertisement.yaml"});
  ASSERT_EQ(result.code, 0) << result.err;
  auto at = result.out.find("---\n");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(result.out.substr(at + 4), std::string(R"(apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: primary-advert
  namespace: metallb-system
  annotations:
)") + kPrimaryAnnotation + R"(
spec:
  ipAddressPools:
    - production-pool
  communities:
    - primary-route
    - region-us-east
  aggregationLength: 32
)");
}

TEST_F(ResolveTest, InPlaceRewritesSpecCommunities) {
  std::string dir = CopyWalkthrough();
  auto result = RunBgpcomm({"resolve", "--expand", "in-place", dir});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("  communities:\n    - '64512:100'\n    - 'large:64512:1:100'\n"
                                    "  aggregationLength: 32\n"));
  EXPECT_THAT(Lines(result.out), ::testing::Contains(kPrimaryAnnotation));
}

TEST_F(ResolveTest, ResolvingTwiceChangesNothing) {
  std::string dir = CopyWalkthrough();
  for (const char* mode : {"annotation", "in-place"}) {
    auto first = RunBgpcomm({"resolve", "--expand", mode, dir});
    ASSERT_EQ(first.code, 0);
    std::string again = Write(std::string("again-") + mode + ".yaml", first.out);
    auto second = RunBgpcomm({"resolve", "--expand", mode, again});
    ASSERT_EQ(second.code, 0) << second.err;
    EXPECT_EQ(second.out, first.out) << mode;
  }
}

TEST_F(ResolveTest, ErrorsPrintDiagnosticsAndNoManifests) {
  std::string dir = CopyWalkthrough();
  Edit("walkthrough/03-bgp-advertisement.yaml", "- primary-route", "- primary-rout");
  auto result = RunBgpcomm({"resolve", dir});
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, HasSubstr(dir + "/03-bgp-advertisement.yaml:10: "
                                          "BGPAdvertisement/primary-advert: spec.communities[0]: "
                                          "error: \"primary-rout\""));
}

TEST_F(ResolveTest, WarnModeRecordsUnresolved) {
  std::string dir = CopyWalkthrough();
  Edit("walkthrough/03-bgp-advertisement.yaml", "- primary-route", "- primary-rout");
  auto result = RunBgpcomm({"resolve", "--unresolved-aliases", "warn", dir});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"unresolved\":[\"primary-rout\"]"));
}

TEST_F(ResolveTest, UnreadableInput) {
  auto result = RunBgpcomm({"resolve", Path("missing")});
  EXPECT_EQ(result.code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, Path("missing") + ": error: no such file or directory\n");
}

TEST_F(ResolveTest, ListItemsAndJsonInput) {
  std::string file = Write("list.json", R"({"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "metallb.io/v1beta1", "kind": "BGPAdvertisement",
   "metadata": {"name": "a", "annotations": {"keep": "me"}},
   "spec": {"communities": ["no-export", "65535:666"]}}]})");
  auto result = RunBgpcomm({"resolve", file});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, R"(apiVersion: 'v1'
kind: 'List'
items:
  - apiVersion: 'metallb.io/v1beta1'
    kind: 'BGPAdvertisement'
    metadata:
      name: 'a'
      annotations:
        keep: 'me'
        bgpcomm.io/resolved-communities: '{"from":["no-export","65535:666"],"communities":["65535:65281","65535:666"]}'
    spec:
      communities:
        - 'no-export'
        - '65535:666'
)");
}

TEST_F(ResolveTest, ResolveManifestsDirectly) {
  manifest::ManifestSet set;
  manifest::LoadText(R"(apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: a
spec:
  communities: [no-advertise]
)",
                     "mem.yaml", set);
  ASSERT_TRUE(set.ok());
  NamespaceStates namespaces = BuildNamespaces(set, "metallb-system");
  ResolveOptions options;
  auto text = ResolveManifests(set, namespaces, options);
  ASSERT_TRUE(text.has_value());
  EXPECT_THAT(*text,
              HasSubstr("  annotations:\n    bgpcomm.io/resolved-communities: "
                        "'{\"from\":[\"no-advertise\"],\"communities\":[\"65535:65282\"]}'\n"));
  EXPECT_THAT(*text, Not(HasSubstr("---")));
}

}  // namespace
}  // namespace bgpcomm::cli
