#include "manifest/yaml_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bgpcomm::manifest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<YamlNodePtr> Parse(std::string_view text, const YamlParseOptions& options = {}) {
  auto documents = ParseYamlStream(text, options);
  if (!documents) {
    ADD_FAILURE() << documents.error().message;
    return {};
  }
  return *documents;
}

YamlError Fail(std::string_view text, const YamlParseOptions& options = {}) {
  auto documents = ParseYamlStream(text, options);
  if (documents) {
    ADD_FAILURE() << "parsed: " << text;
    return {};
  }
  return documents.error();
}

TEST(YamlTreeTest, KindsTextQuotingTagsAndPositions) {
  auto docs = Parse(R"(# comment
plain: 64512:100
single: 'true'
double: "x\ty"
literal: |
  a
empty:
tilde: ~
word: Null
quoted_null: "null"
tagged: !!str 5
bang: ! yes
list: [a, {b: c}]
)");
  ASSERT_EQ(docs.size(), 1u);
  const YamlNode& root = *docs[0];
  ASSERT_TRUE(root.IsMapping());
  EXPECT_EQ(root.line(), 2);
  EXPECT_EQ(root.column(), 1);
  ASSERT_EQ(root.size(), 11u);
  std::vector<std::string> keys;
  for (const YamlEntry& entry : root.entries()) keys.push_back(entry.key->text());
  EXPECT_THAT(keys, ::testing::ElementsAre("plain", "single", "double", "literal", "empty",
                                           "tilde", "word", "quoted_null", "tagged", "bang",
                                           "list"));

  const YamlNode* plain = root.Find("plain");
  ASSERT_NE(plain, nullptr);
  EXPECT_TRUE(plain->IsScalar());
  EXPECT_EQ(plain->text(), "64512:100");
  EXPECT_FALSE(plain->quoted());
  EXPECT_EQ(plain->line(), 2);
  EXPECT_EQ(plain->column(), 8);

  EXPECT_TRUE(root.Find("single")->quoted());
  EXPECT_EQ(root.Find("single")->text(), "true");
  EXPECT_EQ(root.Find("double")->text(), "x\ty");
  EXPECT_TRUE(root.Find("literal")->quoted());
  EXPECT_EQ(root.Find("literal")->text(), "a\n");
  EXPECT_TRUE(root.Find("empty")->IsNull());
  EXPECT_TRUE(root.Find("tilde")->IsNull());
  EXPECT_TRUE(root.Find("word")->IsNull());
  EXPECT_TRUE(root.Find("quoted_null")->IsScalar());
  EXPECT_EQ(root.Find("tagged")->tag(), "tag:yaml.org,2002:str");
  EXPECT_FALSE(root.Find("tagged")->quoted());
  EXPECT_EQ(root.Find("bang")->tag(), "!");
  const YamlNode* list = root.Find("list");
  ASSERT_TRUE(list->IsSequence());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->items()[1]->Find("b")->text(), "c");
  EXPECT_EQ(list->items()[1]->line(), 13);
  EXPECT_EQ(list->items()[1]->column(), 11);
  EXPECT_EQ(root.Find("missing"), nullptr);
}

TEST(YamlTreeTest, RepeatedKeysAreKept) {
  auto docs = Parse("a: 1\na: 2\n");
  ASSERT_EQ(docs.size(), 1u);
  ASSERT_EQ(docs[0]->size(), 2u);
  EXPECT_EQ(docs[0]->Find("a")->text(), "1");
}

TEST(YamlTreeTest, DocumentsMarkersAndEmptyDocuments) {
  EXPECT_TRUE(Parse("").empty());
  EXPECT_TRUE(Parse("# only a comment\n").empty());
  auto docs = Parse("---\na: 1\n...\n---\n---\nb\n...\n");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_TRUE(docs[0]->IsMapping());
  EXPECT_EQ(docs[0]->line(), 2);
  EXPECT_TRUE(docs[1]->IsNull());
  EXPECT_EQ(docs[2]->text(), "b");
}

TEST(YamlTreeTest, JsonIsYaml) {
  auto docs = Parse(R"({"kind": "X", "n": 1, "l": [true, null, "s"]})");
  ASSERT_EQ(docs.size(), 1u);
  const YamlNode& root = *docs[0];
  EXPECT_TRUE(root.entries()[0].key->quoted());
  EXPECT_TRUE(root.Find("kind")->quoted());
  EXPECT_FALSE(root.Find("n")->quoted());
  const YamlNode* list = root.Find("l");
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(list->items()[0]->text(), "true");
  EXPECT_TRUE(list->items()[1]->IsNull());
}

TEST(YamlTreeTest, AliasIsTheAnchoredNode) {
  auto docs = Parse("a: &x {k: v}\nb: *x\nc: &s text\nd: *s\n");
  ASSERT_EQ(docs.size(), 1u);
  const YamlNode& root = *docs[0];
  EXPECT_EQ(root.entries()[0].value, root.entries()[1].value);
  EXPECT_EQ(root.Find("d")->text(), "text");
  // Anchors belong to their document.
  YamlError error = Fail("a: &x 1\n---\nb: *x\n");
  EXPECT_EQ(error.line, 3);
  EXPECT_EQ(error.message, "malformed YAML: alias *x has no anchor (column 4)");
}

TEST(YamlTreeTest, AliasInsideItsOwnAnchorIsAnError) {
  YamlError error = Fail("a: 1\nx: &a [*a]\n");
  EXPECT_EQ(error.line, 2);
  EXPECT_EQ(error.column, 8);
  EXPECT_EQ(error.message, "malformed YAML: alias *a refers to a node that contains it (column 8)");
  // An inner node may reuse the name; the alias then refers to it.
  auto docs = Parse("x: &a [&a {k: v}, *a]\n");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]->Find("x")->items()[1]->Find("k")->text(), "v");
}

TEST(YamlTreeTest, AliasExpansionIsCounted) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int j = 0; j < 9; ++j) text += ", " + prev;
    text += "]\n";
  }
  YamlError error = Fail(text, {.max_nodes = 100000});
  EXPECT_EQ(error.message,
            "document has more than 100000 nodes (aliases counted each time they are used)");
  EXPECT_GT(error.line, 1);
  // The count is per document.
  EXPECT_EQ(Parse("[a, b]\n---\n[c, d]\n", {.max_nodes = 3}).size(), 2u);
  EXPECT_EQ(Fail("[a, b, c]\n", {.max_nodes = 3}).line, 1);
}

TEST(YamlTreeTest, DeepNestingIsRefusedWhileReading) {
  EXPECT_EQ(Parse(std::string(10, '[') + std::string(10, ']'), {.max_depth = 10}).size(), 1u);
  YamlError error = Fail(std::string(11, '[') + std::string(11, ']'), {.max_depth = 10});
  EXPECT_EQ(error.line, 1);
  EXPECT_EQ(error.message, "malformed YAML: nesting too deep, more than 10 levels (column 11)");
  EXPECT_THAT(Fail(std::string(100000, '{')).message, StartsWith("malformed YAML: nesting too deep"));
}

TEST(YamlTreeTest, SyntaxErrorsHaveLineColumnAndContext) {
  YamlError error = Fail("a: 1\nb: [x\n");
  EXPECT_EQ(error.line, 3);
  EXPECT_EQ(error.column, 1);
  EXPECT_EQ(error.message,
            "malformed YAML: did not find expected ',' or ']' (column 1), while parsing a flow "
            "sequence that starts at line 2, column 4");
  error = Fail("a: 1\n b: 2\n");
  EXPECT_EQ(error.line, 2);
  EXPECT_THAT(error.message, StartsWith("malformed YAML: mapping values are not allowed"));
  error = Fail("a: 'x\n");
  EXPECT_THAT(error.message, HasSubstr("while scanning a quoted scalar that starts at line 1"));
}

// yaml-cpp 0.7 looped forever on these (LoadAll yielded empty documents); libyaml stops.
TEST(YamlTreeTest, ContentAfterTheRootValueIsAnError) {
  for (const char* text : {"[a],", "{a: b},\n", "\"a\",", "'a' ,", "k: v\n---\n[a]\n,",
                           "&x [a],", "[a] # c\n,", "[a]]", "a\n...\nb\n"}) {
    YamlError error = Fail(text);
    EXPECT_THAT(error.message,
                StartsWith("malformed YAML: unexpected content after the document's root value"))
        << text;
    EXPECT_GT(error.line, 0) << text;
  }
}

// Valid UTF-8 that YAML does not allow (C1 controls, U+FFFE) is refused by libyaml's reader,
// which reports a byte offset.
TEST(YamlTreeTest, ReaderErrorsHaveLineAndColumn) {
  YamlError error = Fail("a: 1\nb: x\xc2\x80y\n");
  EXPECT_EQ(error.line, 2);
  EXPECT_EQ(error.column, 5);
  EXPECT_EQ(error.message,
            "malformed YAML: control characters are not allowed (U+0080) (column 5)");
}

TEST(YamlTreeTest, ParserReturnsDocumentsOneByOneThenTheError) {
  YamlStreamParser parser("a: 1\n---\nb: 2\n---\n[\n");
  auto first = parser.Next();
  ASSERT_TRUE(first.has_value() && first->has_value());
  EXPECT_EQ((**first)->Find("a")->text(), "1");
  auto second = parser.Next();
  ASSERT_TRUE(second.has_value() && second->has_value());
  auto third = parser.Next();
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().line, 6);
  auto again = parser.Next();
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().message, third.error().message);

  YamlStreamParser done("a");
  ASSERT_TRUE(done.Next().value().has_value());
  EXPECT_FALSE(done.Next().value().has_value());
  EXPECT_FALSE(done.Next().value().has_value());
}

TEST(YamlNodeTest, EditingInMemory) {
  YamlNodePtr root = YamlNode::Null();
  YamlNode* metadata = root->Child("metadata");
  ASSERT_NE(metadata, nullptr);
  EXPECT_TRUE(root->IsMapping());
  EXPECT_TRUE(metadata->IsNull());
  EXPECT_TRUE(metadata->Child("annotations")->IsNull());
  EXPECT_TRUE(metadata->IsMapping());
  EXPECT_TRUE(root->Set("kind", YamlNode::Scalar("A")));
  EXPECT_TRUE(root->Set("kind", YamlNode::Scalar("B", true)));
  ASSERT_EQ(root->size(), 2u);
  EXPECT_EQ(root->Find("kind")->text(), "B");
  EXPECT_TRUE(root->Find("kind")->quoted());
  EXPECT_EQ(root->Find("kind")->line(), 0);

  YamlNodePtr list = YamlNode::Sequence();
  EXPECT_TRUE(list->Append(YamlNode::Scalar("x")));
  EXPECT_FALSE(list->Set("k", YamlNode::Null()));
  EXPECT_EQ(list->Child("k"), nullptr);
  EXPECT_FALSE(root->Find("kind") == nullptr);
  YamlNodePtr scalar = YamlNode::Scalar("s");
  EXPECT_FALSE(scalar->Append(YamlNode::Null()));
  EXPECT_EQ(scalar->size(), 0u);
}

}  // namespace
}  // namespace bgpcomm::manifest
