#include "manifest/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace bgpcomm::manifest {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

ManifestSet Load(std::string_view text, const LoadOptions& options = {}) {
  ManifestSet set;
  LoadText(text, "in.yaml", set, options);
  return set;
}

TEST(LoadTextTest, MultiDocumentYamlWithLines) {
  ManifestSet set = Load(R"(# leading comment
apiVersion: metallb.io/v1beta1
kind: Community
metadata:
  name: c
---
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
)");
  ASSERT_TRUE(set.ok()) << set.errors[0].ToString();
  ASSERT_EQ(set.documents.size(), 2u);
  EXPECT_EQ(set.sources.size(), 2u);
  EXPECT_EQ(set.documents[0].line, 2);
  EXPECT_EQ(set.documents[0].kind, "Community");
  EXPECT_EQ(set.documents[0].name, "c");
  EXPECT_EQ(set.documents[0].namespace_name, "");
  EXPECT_TRUE(set.documents[0].Judged());
  EXPECT_EQ(set.documents[1].line, 8);
  EXPECT_EQ(set.documents[1].kind, "Service");
  EXPECT_EQ(set.documents[1].namespace_name, "default");
  EXPECT_FALSE(set.documents[1].Judged());
  EXPECT_EQ(set.documents[1].source, 1u);
}

TEST(LoadTextTest, JsonParses) {
  ManifestSet set = Load(
      R"({"apiVersion": "metallb.io/v1beta1", "kind": "BGPAdvertisement",
          "metadata": {"name": "a"},
          "spec": {"communities": ["64512:1"], "aggregationLength": 32}})");
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set.documents.size(), 1u);
  const auto& adv = std::get<community::Advertisement>(set.documents[0].object);
  EXPECT_THAT(adv.communities, ElementsAre("64512:1"));
  EXPECT_EQ(adv.aggregation_length, 32);
  EXPECT_EQ(set.documents[0].LineOf("spec.aggregationLength"), 3);
}

TEST(LoadTextTest, ListItemsAreObjectsOfTheirOwn) {
  ManifestSet set = Load(R"(apiVersion: v1
kind: List
items:
  - apiVersion: metallb.io/v1beta1
    kind: IPAddressPool
    metadata:
      name: p
    spec:
      addresses: [10.0.0.0/24]
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: cm
)");
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set.sources.size(), 1u);
  ASSERT_EQ(set.documents.size(), 2u);
  EXPECT_EQ(set.documents[0].kind, "IPAddressPool");
  EXPECT_EQ(set.documents[0].line, 4);
  EXPECT_EQ(set.documents[0].LineOf("spec.addresses[0]"), 9);
  EXPECT_EQ(set.documents[1].kind, "ConfigMap");
  EXPECT_EQ(set.documents[1].line, 10);
  EXPECT_EQ(set.documents[1].source, 0u);
}

TEST(LoadTextTest, ListItemSharesStorageWithItsSource) {
  ManifestSet set = Load(R"(apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: cm}
)");
  ASSERT_EQ(set.documents.size(), 1u);
  set.documents[0].node->Child("data")->Set("k", YamlNode::Scalar("v"));
  const YamlNode& item = *FieldOf(*set.sources[0].node, "items").items().at(0);
  EXPECT_EQ(FieldOf(FieldOf(item, "data"), "k").text(), "v");
}

TEST(LoadTextTest, WithoutTreesOnlyDecodedObjectsAreKept) {
  constexpr char kText[] = R"(apiVersion: v1
kind: List
items:
  - apiVersion: metallb.io/v1beta1
    kind: IPAddressPool
    metadata: {name: p}
    spec: {addresses: [10.0.0.0/24]}
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec: {type: LoadBalancer}
)";
  LoadOptions options;
  options.keep_trees = false;
  std::vector<std::string> seen;
  options.on_object = [&](const Document& doc) {
    ASSERT_NE(doc.node, nullptr);
    seen.push_back(doc.kind + " " + FieldOf(FieldOf(*doc.node, "spec"), "type").text());
  };
  ManifestSet set = Load(kText, options);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set.sources.empty());
  ASSERT_EQ(set.documents.size(), 2u);
  for (const Document& doc : set.documents) EXPECT_EQ(doc.node, nullptr) << doc.kind;
  EXPECT_THAT(std::get<community::AddressPool>(set.documents[0].object).addresses,
              ElementsAre("10.0.0.0/24"));
  EXPECT_EQ(set.documents[1].LineOf("spec.type"), 11);
  EXPECT_THAT(seen, ElementsAre("IPAddressPool ", "Service LoadBalancer"));
}

// Without documents, objects reach only the callback: nothing is stored per object.
TEST(LoadTextTest, WithoutDocumentsObjectsOnlyReachTheCallback) {
  LoadOptions options;
  options.keep_trees = false;
  options.keep_documents = false;
  std::vector<std::string> seen;
  options.on_object = [&](const Document& doc) {
    ASSERT_NE(doc.node, nullptr);
    seen.push_back(doc.kind + "/" + doc.name + (doc.Judged() ? " judged" : ""));
  };
  ManifestSet set = Load(R"(apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p}
spec: {addresses: [10.0.0.0/24]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
)",
                         options);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set.sources.empty());
  EXPECT_TRUE(set.documents.empty());
  EXPECT_THAT(seen, ElementsAre("IPAddressPool/p judged", "Service/web"));
}

// A later malformed document drops the file's earlier objects: the file is unreadable.
TEST(LoadTextTest, MalformedLaterDocumentLoadsNothingFromTheFile) {
  ManifestSet set;
  LoadText("apiVersion: v1\nkind: A\nmetadata: {name: before}\n", "0.yaml", set);
  LoadText("apiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n[\n", "in.yaml", set);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].line, 6);
  ASSERT_EQ(set.documents.size(), 1u);
  EXPECT_EQ(set.documents[0].name, "before");
  EXPECT_EQ(set.sources.size(), 1u);
}

TEST(LoadTextTest, EmptyInputAndEmptyDocumentsGiveNothing) {
  EXPECT_TRUE(Load("").documents.empty());
  EXPECT_TRUE(Load("---\n---\n# only a comment\n").documents.empty());
  EXPECT_TRUE(Load("---\n---\n").ok());
}

TEST(LoadTextTest, MalformedYamlHasLine) {
  ManifestSet set = Load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].file, "in.yaml");
  EXPECT_EQ(set.errors[0].line, 5);
  EXPECT_EQ(set.errors[0].message,
            "malformed YAML: did not find expected ',' or ']' (column 1), while parsing a flow "
            "sequence that starts at line 4, column 9");
}

TEST(LoadTextTest, BadIndentationHasLine) {
  ManifestSet set = Load("a: 1\n b: 2\nc: d: e\n");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_GT(set.errors[0].line, 0);
  EXPECT_THAT(set.errors[0].message, ::testing::StartsWith("malformed YAML: "));
}

// Found by manifest_loader_fuzz: yaml-cpp 0.7's LoadAll looped forever (and allocated) on a
// ',' after a document's root flow collection or quoted scalar. libyaml stops with an error.
TEST(LoadTextTest, CommaAfterRootFlowValueIsAnErrorNotAHang) {
  for (const char* text :
       {"[a],", "{a: b},\n", "\"a\",", "'a' ,", "k: v\n---\n[a]\n,", "&x [a],", "[a] # c\n,"}) {
    ManifestSet set = Load(text);
    ASSERT_EQ(set.errors.size(), 1u) << text;
    EXPECT_THAT(set.errors[0].message,
                ::testing::StartsWith(
                    "malformed YAML: unexpected content after the document's root value"))
        << text;
    EXPECT_GT(set.errors[0].line, 0) << text;
  }
  EXPECT_EQ(Load("k: v\n---\n[a]\n,").errors[0].ToString(),
            "in.yaml:4: malformed YAML: unexpected content after the document's root value "
            "(start another document with ---) (column 1)");
  // Documents separated by markers still load, empty ones included.
  ManifestSet set =
      Load("---\napiVersion: v1\nkind: A\n---\n---\n...\n---\napiVersion: v1\nkind: B\n");
  EXPECT_TRUE(set.ok());
  EXPECT_EQ(set.documents.size(), 2u);
}

// Found by manifest_loader_fuzz: yaml-cpp turns invalid UTF-8 into U+FFFD, so `resolve`
// would print other bytes than it read. The API server takes only UTF-8.
TEST(LoadTextTest, InvalidUtf8IsAnError) {
  ManifestSet set = Load(
      "apiVersion: v1\nkind: A\nvalue: \"64512:7\x82"
      "000\"\n");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].ToString(), "in.yaml:3: not valid UTF-8 (column 16)");
  EXPECT_EQ(Load("\xff").errors[0].ToString(), "in.yaml:1: not valid UTF-8 (column 1)");
  EXPECT_EQ(Load("ab\xff").errors[0].ToString(), "in.yaml:1: not valid UTF-8 (column 3)");
  EXPECT_EQ(Load("a\n\xff").errors[0].ToString(), "in.yaml:2: not valid UTF-8 (column 1)");
  for (const char* bad : {"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xff"}) {
    EXPECT_FALSE(Load(std::string("a: ") + bad).ok()) << bad;
  }
  ManifestSet good = Load(
      "apiVersion: v1\nkind: A\nmetadata: {name: \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}\n");
  EXPECT_TRUE(good.ok());
  EXPECT_EQ(good.documents[0].name, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

// Found by manifest_loader_fuzz: a raw NUL cut the written text short.
TEST(LoadTextTest, ControlCharactersAreAnError) {
  ManifestSet set = Load(std::string("apiVersion: v1\nkind: A\nx: 'a\0b'\n", 32));
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].ToString(),
            "in.yaml:3: control character U+0000 is not allowed (column 6)");
  EXPECT_EQ(Load("a: \x7f").errors[0].message,
            "control character U+007F is not allowed (column 4)");
  EXPECT_TRUE(Load("apiVersion: v1\r\nkind: A\r\nx: \"a\tb\"\r\n").ok());
}

TEST(LoadTextTest, DocumentThatIsNoObjectIsAnError) {
  ManifestSet set = Load("just a string\n---\n- a\n- b\n");
  ASSERT_EQ(set.errors.size(), 2u);
  EXPECT_EQ(set.errors[0].ToString(),
            "in.yaml:1: expected a Kubernetes object (a mapping), got string \"just a string\"");
  EXPECT_EQ(set.errors[1].ToString(),
            "in.yaml:3: expected a Kubernetes object (a mapping), got a list");
}

TEST(LoadTextTest, ApiVersionAndKindRequired) {
  ManifestSet set = Load(
      "kind: ConfigMap\n---\napiVersion: v1\nmetadata: {}\n---\n"
      "apiVersion: v1\nkind: 5\n");
  ASSERT_EQ(set.errors.size(), 3u);
  EXPECT_EQ(set.errors[0].ToString(), "in.yaml:1: object has no apiVersion (a string)");
  EXPECT_EQ(set.errors[1].ToString(), "in.yaml:3: object has no kind (a string)");
  EXPECT_EQ(set.errors[2].ToString(), "in.yaml:7: object has no kind (a string)");
}

TEST(LoadTextTest, DuplicateKeyIsAnError) {
  ManifestSet set = Load("apiVersion: v1\nkind: A\nmetadata:\n  name: a\n  name: b\n");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].ToString(), "in.yaml:5: duplicate mapping key \"name\"");
}

TEST(LoadTextTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep = "apiVersion: v1\nkind: A\nx: " + std::string(100, '[') + std::string(100, ']');
  ManifestSet set = Load(deep);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].message,
            "document nests deeper than 64 levels (or an anchor refers to itself)");

  ManifestSet very_deep = Load(std::string(100000, '[') + std::string(100000, ']'));
  ASSERT_EQ(very_deep.errors.size(), 1u);
  EXPECT_THAT(very_deep.errors[0].message,
              ::testing::StartsWith("malformed YAML: nesting too deep"));
}

// Also the regression input of a stack-use-after-scope found by manifest_loader_fuzz (a
// reference to a mapping key bound to yaml-cpp's temporary iterator proxy); ASan builds
// see it.
TEST(LoadTextTest, SelfReferencingAnchorIsAnError) {
  ManifestSet set = Load("apiVersion: v1\nkind: A\nx: &a [*a]\n");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].line, 3);
}

TEST(LoadTextTest, AliasBombIsBounded) {
  std::string text = "apiVersion: v1\nkind: A\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int j = 0; j < 9; ++j) text += ", " + prev;
    text += "]\n";
  }
  LoadOptions options;
  options.limits.max_nodes = 10000;
  ManifestSet set = Load(text, options);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].message,
            "document has more than 10000 nodes (aliases counted each time they are used)");
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("bgpcomm-loader-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& relative, const std::string& text) {
    fs::path path = root_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  fs::path root_;
};

TEST_F(TempDir, ExpandPathRecursesSortedAndFilters) {
  Write("b.yaml", "");
  Write("a/z.yml", "");
  Write("a/b.json", "");
  Write("notes.txt", "");
  Write("c.YAML.bak", "");
  auto files = ExpandPath(root_.string());
  ASSERT_TRUE(files.has_value());
  std::vector<std::string> shown;
  for (const auto& file : *files) shown.push_back(file.display);
  EXPECT_THAT(shown, ElementsAre((root_ / "a/b.json").string(), (root_ / "a/z.yml").string(),
                                 (root_ / "b.yaml").string()));
}

TEST_F(TempDir, ExpandPathKeepsThePathAsGiven) {
  Write("x.yaml", "");
  auto files = ExpandPath(root_.string() + "/");
  ASSERT_TRUE(files.has_value());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].display, root_.string() + "/x.yaml");
  auto file = ExpandPath((root_ / "x.yaml").string());
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ((*file)[0].display, (root_ / "x.yaml").string());
}

TEST_F(TempDir, MissingPathIsAnError) {
  auto files = ExpandPath((root_ / "nope").string());
  ASSERT_FALSE(files.has_value());
  EXPECT_EQ(files.error().message, "no such file or directory");
  std::vector<std::string> paths = {(root_ / "nope").string()};
  ManifestSet set = LoadPaths(paths);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].ToString(), (root_ / "nope").string() + ": no such file or directory");
}

TEST_F(TempDir, LoadPathsKeepsInputOrderAndCollectsAllErrors) {
  Write("1.yaml", "apiVersion: v1\nkind: A\nmetadata: {name: one}\n");
  Write("2.yaml", "a: [\n");
  Write("3.yaml", "apiVersion: v1\nkind: A\nmetadata: {name: three}\n");
  std::vector<std::string> paths = {(root_ / "3.yaml").string(), root_.string()};
  ManifestSet set = LoadPaths(paths);
  ASSERT_EQ(set.documents.size(), 3u);
  EXPECT_EQ(set.documents[0].name, "three");
  EXPECT_EQ(set.documents[1].name, "one");
  EXPECT_EQ(set.documents[2].name, "three");
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].file, (root_ / "2.yaml").string());
  EXPECT_EQ(set.files.size(), 4u);
}

TEST_F(TempDir, OversizedFileIsRefused) {
  Write("big.yaml", std::string(2000, '#'));
  LoadOptions options;
  options.max_file_bytes = 1000;
  ManifestSet set;
  LoadFile({root_ / "big.yaml", "big.yaml"}, set, options);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].ToString(), "big.yaml: file is larger than 1000 bytes");
}

TEST_F(TempDir, FolderGivenAsFileIsAnError) {
  ManifestSet set;
  LoadFile({root_, "dir"}, set);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].ToString(), "dir: is a folder, expected a file");
}

TEST(LoadPathsTest, WalkthroughLoads) {
  std::vector<std::string> paths = {BGPCOMM_SOURCE_DIR "/examples/walkthrough"};
  ManifestSet set = LoadPaths(paths);
  ASSERT_TRUE(set.ok()) << set.errors[0].ToString();
  ASSERT_EQ(set.documents.size(), 6u);
  EXPECT_EQ(set.documents[0].kind, "Community");
  EXPECT_EQ(set.documents[4].kind, "BGPPeer");
  EXPECT_EQ(set.documents[4].line, 2);
  EXPECT_EQ(set.documents[5].kind, "Service");
  for (const auto& doc : set.documents) EXPECT_TRUE(doc.problems.empty()) << doc.name;
}

}  // namespace
}  // namespace bgpcomm::manifest
