// Runs the built `bgpcomm` binary as a user would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "unit/cli/cli_test_util.h"

namespace bgpcomm::cli {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using testing::Lines;
using testing::ReadFile;
using ::testing::StartsWith;

class BinaryTest : public testing::ScratchTest {
 protected:
  // Runs `bgpcomm ARGS` (already shell-quoted) from the scratch folder.
  testing::RunResult Exec(const std::string& args) {
    std::string command = "cd '" + dir_.string() + "' && '" BGPCOMM_BINARY "' " + args + " >'" +
                          Path("stdout") + "' 2>'" + Path("stderr") + "'";
    int status = std::system(command.c_str());
    testing::RunResult result;
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadFile(Path("stdout"));
    result.err = ReadFile(Path("stderr"));
    return result;
  }
};

TEST_F(BinaryTest, LintMisspelledWalkthrough) {
  CopyWalkthrough();
  Edit("walkthrough/03-bgp-advertisement.yaml", "- primary-route", "- primary-rout");
  auto result = Exec("lint walkthrough/");
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.err, "");
  EXPECT_THAT(Lines(result.out),
              ::testing::Contains(
                  AllOf(StartsWith("walkthrough/03-bgp-advertisement.yaml:10: "
                                   "BGPAdvertisement/primary-advert: spec.communities[0]: error: "
                                   "\"primary-rout\" is not "),
                        EndsWith("; did you mean \"primary-route\"?"))));
}

// `kustomize build . | bgpcomm lint -`: standard input, named <stdin>.
TEST_F(BinaryTest, LintReadsStandardInput) {
  Write("pool.yaml", R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: default}
spec: {addresses: ["203.0.113.0/28"]}
)");
  auto result = Exec("lint - <pool.yaml");
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.out,
            "<stdin>:3: IPAddressPool/p: metadata.namespace: error: resource must be created in "
            "metallb-system namespace, not in default (the namespace bgpcomm serves)\n");
  result = Exec("resolve - <pool.yaml --namespace default");
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("name: p"));
}

// One version, the chart's appVersion, in all three binaries.
TEST_F(BinaryTest, VersionIsTheChartsAppVersion) {
  std::string chart = ReadFile(BGPCOMM_SOURCE_DIR "/charts/bgpcomm/Chart.yaml");
  std::string version;
  for (const std::string& line : Lines(chart)) {
    if (line.starts_with("appVersion:")) version = line.substr(line.find('"') + 1);
  }
  version = version.substr(0, version.find('"'));
  ASSERT_FALSE(version.empty());
  auto result = Exec("--version");
  EXPECT_EQ(result.code, 0);
  EXPECT_EQ(result.out, "bgpcomm " + version + "\n");
  for (const auto& [binary, name] : {std::pair{BGPCOMM_WEBHOOK_BINARY, "bgpcomm-webhook"},
                                     std::pair{BGPCOMM_SPEAKER_BINARY, "bgpcomm-speaker"}}) {
    std::string command = std::string("'") + binary + "' --version >'" + Path("v") + "' 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << name;
    EXPECT_EQ(ReadFile(Path("v")), std::string(name) + " " + version + "\n");
  }
  // The image's default tag label says the same.
  EXPECT_THAT(ReadFile(BGPCOMM_SOURCE_DIR "/Dockerfile"),
              HasSubstr("ARG BGPCOMM_VERSION=" + version + "\n"));
}

TEST_F(BinaryTest, LintCleanWalkthrough) {
  CopyWalkthrough();
  auto result = Exec("lint walkthrough");
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(result.out,
              HasSubstr("walkthrough/03-bgp-advertisement.yaml:9: "
                        "BGPAdvertisement/primary-advert: spec.communities: warning: "));
}

TEST_F(BinaryTest, ResolveWalkthrough) {
  CopyWalkthrough();
  auto result = Exec("resolve walkthrough");
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(
      result.out,
      HasSubstr("  name: primary-advert\n  namespace: metallb-system\n  annotations:\n"
                "    bgpcomm.io/resolved-communities: '{\"from\":[\"primary-route\","
                "\"region-us-east\"],\"communities\":[\"64512:100\",\"large:64512:1:100\"]}'"
                "\n"));
}

TEST_F(BinaryTest, RoutesOfTheWalkthroughAndOfATypo) {
  CopyWalkthrough();
  auto routes = Exec("routes walkthrough/");
  EXPECT_EQ(routes.code, 0) << routes.err;
  EXPECT_THAT(Lines(routes.out),
              ::testing::Contains("    203.0.113.10/32  ipv4 next-hop  communities 64512:100 "
                                  "64512:200 large:64512:1:100"));
  std::filesystem::copy(Path("walkthrough"), Path("typo"));
  Edit("typo/03-bgp-advertisement.yaml", "- primary-route", "- primary-rout");
  auto diff = Exec("routes --base walkthrough -- typo");
  EXPECT_EQ(diff.code, 3) << diff.err;
  EXPECT_THAT(diff.out, StartsWith("routes: 0 added, 0 withdrawn, 1 changed\n"));
  EXPECT_EQ(Exec("routes --base walkthrough -- walkthrough").code, 0);
}

TEST_F(BinaryTest, UnreadableAndUsage) {
  Write("bad.yaml", "kind: [\n");
  auto bad = Exec("lint bad.yaml");
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, StartsWith("bad.yaml:2: error: malformed YAML: "));
  EXPECT_EQ(Exec("lint").code, 2);
  EXPECT_EQ(Exec("frobnicate x").code, 2);
  auto help = Exec("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, AllOf(HasSubstr("lint"), HasSubstr("resolve")));
}

}  // namespace
}  // namespace bgpcomm::cli
