#include "manifest/yaml_writer.h"

#include "manifest/object_decoder.h"

#include <gtest/gtest.h>

#include <vector>

namespace bgpcomm::manifest {
namespace {

// The first document of `text`, which must parse.
YamlNodePtr Parse(std::string_view text) {
  auto documents = ParseYamlStream(text);
  if (!documents || documents->empty()) {
    ADD_FAILURE() << (documents ? "no document" : documents.error().message);
    return YamlNode::Null();
  }
  return documents->front();
}

// The value at `key` of a parsed mapping.
const YamlNode& At(const YamlNodePtr& node, std::string_view key) { return FieldOf(*node, key); }

TEST(WriteYamlTest, KeepsQuotingAndOrder) {
  YamlNodePtr node = Parse(R"(kind: X
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
  auto text = WriteYaml(*node);
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
  YamlNodePtr node = Parse("a: \"line1\\nline2\"\nb: \"it's\"\nc: \"tab\\there\"\n");
  auto text = WriteYaml(*node);
  ASSERT_TRUE(text.has_value());
  YamlNodePtr again = Parse(*text);
  EXPECT_EQ(At(again, "a").text(), "line1\nline2");
  EXPECT_EQ(At(again, "b").text(), "it's");
  EXPECT_EQ(At(again, "c").text(), "tab\there");
  EXPECT_TRUE(At(again, "a").quoted());
}

TEST(WriteYamlTest, JsonBecomesBlockYaml) {
  YamlNodePtr node = Parse(R"({"kind": "X", "spec": {"n": 1, "s": "1", "l": ["a"]}})");
  auto text = WriteYaml(*node);
  ASSERT_TRUE(text.has_value());
  // Keys lose their quotes unless YAML 1.1 would read them otherwise (`n` is false there).
  EXPECT_EQ(*text, "kind: 'X'\nspec:\n  'n': 1\n  s: '1'\n  l:\n    - 'a'\n");
}

// Found by manifest_loader_fuzz: a plain scalar holding a control character is written
// double-quoted with an escape; it must read back as the same string. (libyaml refuses raw
// control characters, so the node is built in memory.)
TEST(WriteYamlTest, PlainScalarWithControlCharacterReadsBackTheSame) {
  YamlNodePtr node = YamlNode::Mapping();
  node->Set("communities", YamlNode::Scalar("prima\x06ry-route"));
  auto text = WriteYaml(*node);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "communities: \"prima\\x06ry-route\"\n");
  EXPECT_EQ(At(Parse(*text), "communities").text(), "prima\x06ry-route");
}

// Found by manifest_loader_fuzz: control characters from escapes were written raw inside
// single quotes (which other YAML readers refuse), and a NUL cut the text short.
TEST(WriteYamlTest, ControlCharactersFromEscapesStayEscaped) {
  YamlNodePtr node = Parse("a: \"x\\0y\\x07z\"\nb: \"tab\\there\"\n");
  ASSERT_EQ(At(node, "a").text(), std::string("x\0y\az", 5));
  auto text = WriteYaml(*node);
  ASSERT_TRUE(text.has_value());
  for (char c : *text)
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') << *text;
  YamlNodePtr again = Parse(*text);
  EXPECT_EQ(At(again, "a").text(), std::string("x\0y\az", 5));
  EXPECT_EQ(At(again, "b").text(), "tab\there");
}

TEST(WriteDocumentsTest, SeparatesDocuments) {
  std::vector<YamlNodePtr> nodes = {Parse("a: 1"), Parse("b: 2")};
  auto text = WriteDocuments(nodes);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "a: 1\n---\nb: 2\n");
  EXPECT_EQ(WriteDocuments({}).value(), "");
}

TEST(WriteYamlTest, ExplicitTagsSurvive) {
  YamlNodePtr node = Parse("a: !!str 5\n");
  auto text = WriteYaml(*node);
  ASSERT_TRUE(text.has_value());
  YamlNodePtr again = Parse(*text);
  EXPECT_EQ(At(again, "a").tag(), "tag:yaml.org,2002:str");
  EXPECT_EQ(At(again, "a").text(), "5");
}

}  // namespace
}  // namespace bgpcomm::manifest
