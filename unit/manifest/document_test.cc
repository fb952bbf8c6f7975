#include "manifest/document.h"

#include <gtest/gtest.h>

namespace bgpcomm::manifest {
namespace {

TEST(LoadErrorTest, FormatsFileLineAndMessage) {
  EXPECT_EQ((LoadError{"a.yaml", 3, "malformed YAML: x"}).ToString(),
            "a.yaml:3: malformed YAML: x");
  EXPECT_EQ((LoadError{"a.yaml", 0, "no such file or directory"}).ToString(),
            "a.yaml: no such file or directory");
}

TEST(FieldLinesTest, ExactPathWins) {
  FieldLines lines;
  lines.Record("spec", 6);
  lines.Record("spec.communities", 9);
  lines.Record("spec.communities[0]", 10);
  EXPECT_EQ(lines.Find("spec.communities[0]", 1), 10);
  EXPECT_EQ(lines.Find("spec.communities", 1), 9);
}

TEST(FieldLinesTest, FallsBackToNearestParentThenDefault) {
  FieldLines lines;
  lines.Record("spec", 6);
  lines.Record("spec.communities", 9);
  lines.Record("metadata.annotations[bgpcomm.io/x]", 4);
  EXPECT_EQ(lines.Find("spec.communities[3]", 1), 9);
  EXPECT_EQ(lines.Find("spec.communities[3].value", 1), 9);
  EXPECT_EQ(lines.Find("spec.nodeSelectors[0].matchLabels", 1), 6);
  EXPECT_EQ(lines.Find("metadata.annotations[bgpcomm.io/x]", 1), 4);
  EXPECT_EQ(lines.Find("metadata.name", 1), 1);
  EXPECT_EQ(lines.Find("", 7), 7);
}

TEST(FieldLinesTest, FirstRecordKept) {
  FieldLines lines;
  lines.Record("a", 2);
  lines.Record("a", 5);
  EXPECT_EQ(lines.Find("a", 0), 2);
  EXPECT_EQ(lines.size(), 1u);
}

}  // namespace
}  // namespace bgpcomm::manifest
