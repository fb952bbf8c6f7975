#include "manifest/yaml_writer.h"

#include <gtest/gtest.h>

#include <vector>

namespace bgpcomm::manifest {
namespace {

TEST(WriteYamlTest, KeepsQuotingAndOrder) {
  YAML::Node node = YAML::Load(R"(kind: X
metadata:
  labels: {version: "123", enabled: "true", plain: abc}
spec:
  value: "64512:100"
  count: 5
  flag: true
  empty: ""
  nothing:
  list: [b, a]
  nested: {}
)");
  auto text = WriteYaml(node);
  ASSERT_TRUE(text.has_value()) << text.error();
  EXPECT_EQ(*text, R"(kind: X
metadata:
  labels:
    version: '123'
    enabled: 'true'
    plain: abc
spec:
  value: '64512:100'
  count: 5
  flag: true
  empty: ''
  nothing: ~
  list:
    - b
    - a
  nested: {}
)");
}

TEST(WriteYamlTest, RoundTripsStringsThatNeedEscapes) {
  YAML::Node node = YAML::Load("a: \"line1\\nline2\"\nb: \"it's\"\nc: \"tab\\there\"\n");
  auto text = WriteYaml(node);
  ASSERT_TRUE(text.has_value());
  YAML::Node again = YAML::Load(*text);
  EXPECT_EQ(again["a"].Scalar(), "line1\nline2");
  EXPECT_EQ(again["b"].Scalar(), "it's");
  EXPECT_EQ(again["c"].Scalar(), "tab\there");
  EXPECT_EQ(again["a"].Tag(), "!");
}

TEST(WriteYamlTest, JsonBecomesBlockYaml) {
  YAML::Node node = YAML::Load(R"({"kind": "X", "spec": {"n": 1, "s": "1", "l": ["a"]}})");
  auto text = WriteYaml(node);
  ASSERT_TRUE(text.has_value());
  // Keys lose their quotes unless YAML 1.1 would read them otherwise (`n` is false there).
  EXPECT_EQ(*text, "kind: 'X'\nspec:\n  'n': 1\n  s: '1'\n  l:\n    - 'a'\n");
}

// Found by manifest_loader_fuzz: a plain scalar holding a control character is written
// double-quoted with an escape; it must read back as the same string.
TEST(WriteYamlTest, PlainScalarWithControlCharacterReadsBackTheSame) {
  YAML::Node node = YAML::Load("communities: prima\x06ry-route\n");
  ASSERT_EQ(node["communities"].Scalar(), "prima\x06ry-route");
  auto text = WriteYaml(node);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "communities: \"prima\\x06ry-route\"\n");
  EXPECT_EQ(YAML::Load(*text)["communities"].Scalar(), "prima\x06ry-route");
}

// Found by manifest_loader_fuzz: control characters from escapes were written raw inside
// single quotes (which other YAML readers refuse), and a NUL cut the text short.
TEST(WriteYamlTest, ControlCharactersFromEscapesStayEscaped) {
  YAML::Node node = YAML::Load("a: \"x\\0y\\x07z\"\nb: \"tab\\there\"\n");
  ASSERT_EQ(node["a"].Scalar(), std::string("x\0y\az", 5));
  auto text = WriteYaml(node);
  ASSERT_TRUE(text.has_value());
  for (char c : *text)
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') << *text;
  YAML::Node again = YAML::Load(*text);
  EXPECT_EQ(again["a"].Scalar(), std::string("x\0y\az", 5));
  EXPECT_EQ(again["b"].Scalar(), "tab\there");
}

TEST(WriteDocumentsTest, SeparatesDocuments) {
  std::vector<YAML::Node> nodes = {YAML::Load("a: 1"), YAML::Load("b: 2")};
  auto text = WriteDocuments(nodes);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "a: 1\n---\nb: 2\n");
  EXPECT_EQ(WriteDocuments({}).value(), "");
}

TEST(WriteYamlTest, ExplicitTagsSurvive) {
  YAML::Node node = YAML::Load("a: !!str 5\n");
  auto text = WriteYaml(node);
  ASSERT_TRUE(text.has_value());
  YAML::Node again = YAML::Load(*text);
  EXPECT_EQ(again["a"].Tag(), "tag:yaml.org,2002:str");
  EXPECT_EQ(again["a"].Scalar(), "5");
}

}  // namespace
}  // namespace bgpcomm::manifest
