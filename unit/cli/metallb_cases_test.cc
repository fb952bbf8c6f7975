// MetalLB 0.16.2's own test cases, rewritten as manifests in examples/metallb-cases/,
// judged by `bgpcomm lint`: the same verdict as MetalLB (exit 0 accept, 1 deny) and the
// exact lines each file's header expects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "unit/cli/cli_test_util.h"

namespace bgpcomm::cli {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(BGPCOMM_SOURCE_DIR "/examples/metallb-cases")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class MetallbCases : public ::testing::TestWithParam<std::string> {};

TEST_P(MetallbCases, LintGivesMetallbsVerdict) {
  const std::string path = BGPCOMM_SOURCE_DIR "/examples/metallb-cases/" + GetParam();
  std::string verdict;
  std::vector<std::string> expected;
  for (const std::string& line : testing::Lines(testing::ReadFile(path))) {
    if (line.starts_with("# metallb: ")) verdict = line.substr(11);
    if (line.starts_with("# expect: ")) expected.push_back(line.substr(10));
  }
  ASSERT_TRUE(verdict == "accept" || verdict == "deny") << path << " has no '# metallb:' line";
  auto result = testing::RunBgpcomm({"lint", path});
  EXPECT_EQ(result.code, verdict == "accept" ? 0 : 1) << result.out << result.err;
  std::vector<std::string> lines = testing::Lines(result.out);
  for (const std::string& want : expected) {
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(),
                            [&](const std::string& l) { return l.find(want) != std::string::npos; }))
        << "no line contains: " << want << "\noutput:\n"
        << result.out;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, MetallbCases, ::testing::ValuesIn(CaseFiles()),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.size() - 5);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(MetallbCasesFolder, HoldsTheCases) { EXPECT_GE(CaseFiles().size(), 40u); }

}  // namespace
}  // namespace bgpcomm::cli
