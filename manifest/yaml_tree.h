// YAML documents as trees of nodes, read with libyaml's event parser. A node keeps what
// later steps need and nothing else: its kind, scalar text, whether the scalar was written
// plain (YAML 1.1 plain scalars may read as numbers, booleans or null; quoted ones are
// strings), its explicit tag and its 1-based position. Mappings keep key order and repeated
// keys (CheckStructure reports those). Aliases become the anchored node itself: nodes are
// shared, never copied, so an alias bomb costs no memory; the parser counts every node an
// alias stands for and refuses documents past a limit.
#pragma once

#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bgpcomm::manifest {

enum class YamlKind { kNull, kScalar, kSequence, kMapping };

class YamlNode;
// Shared: an alias and its anchor, and a `kind: List` item and its document, are one node.
using YamlNodePtr = std::shared_ptr<YamlNode>;

struct YamlEntry {
  YamlNodePtr key;    // never null
  YamlNodePtr value;  // never null
};

class YamlNode {
 public:
  // A null node (`~`, `null`, an empty value), a plain or quoted scalar, empty collections.
  // Nodes made here have no position (line and column 0).
  static YamlNodePtr Null();
  static YamlNodePtr Scalar(std::string text, bool quoted = false);
  static YamlNodePtr Sequence();
  static YamlNodePtr Mapping();

  YamlKind kind() const { return kind_; }
  bool IsNull() const { return kind_ == YamlKind::kNull; }
  bool IsScalar() const { return kind_ == YamlKind::kScalar; }
  bool IsSequence() const { return kind_ == YamlKind::kSequence; }
  bool IsMapping() const { return kind_ == YamlKind::kMapping; }

  // The scalar's text, "" for other kinds.
  const std::string& text() const { return text_; }
  // True when the scalar was written in a non-plain style ('...', "...", | or >): a string
  // whatever it looks like, unless an explicit tag says otherwise.
  bool quoted() const { return quoted_; }
  // The explicit tag as resolved by libyaml ("!" for the non-specific tag, `!!str` as
  // "tag:yaml.org,2002:str", local tags as written), "" when there is none.
  const std::string& tag() const { return tag_; }
  // 1-based position of the node's first character (its anchor or tag if it has one); 0 for
  // nodes built in memory.
  int line() const { return line_; }
  int column() const { return column_; }

  // Sequence items; empty for other kinds.
  const std::vector<YamlNodePtr>& items() const { return items_; }
  // Mapping entries in input order; empty for other kinds.
  const std::vector<YamlEntry>& entries() const { return entries_; }
  // Number of items or entries; 0 for null and scalars.
  std::size_t size() const { return IsMapping() ? entries_.size() : items_.size(); }

  // The value of the first entry whose key is the scalar `key`; nullptr when there is none
  // or this is no mapping.
  const YamlNode* Find(std::string_view key) const;

  // Appends to a sequence (a null node becomes an empty sequence first). False, and
  // nothing changes, for scalars and mappings.
  bool Append(YamlNodePtr item);
  // Sets the value of `key` in a mapping (the first entry with that key, else a new last
  // entry with a plain key); a null node becomes an empty mapping first. False, and nothing
  // changes, for scalars and sequences.
  bool Set(std::string_view key, YamlNodePtr value);
  // The value of `key`, added as null when missing (a null node becomes an empty mapping
  // first); nullptr for scalars and sequences.
  YamlNode* Child(std::string_view key);

 private:
  friend class YamlTreeBuilder;

  YamlKind kind_ = YamlKind::kNull;
  bool quoted_ = false;
  int line_ = 0;
  int column_ = 0;
  std::string text_;
  std::string tag_;
  std::vector<YamlNodePtr> items_;
  std::vector<YamlEntry> entries_;
};

// Where and why a YAML stream cannot be read. `message` is complete ("malformed YAML: ...").
struct YamlError {
  int line = 0;  // 1-based, 0 when unknown
  int column = 0;
  std::string message;
};

struct YamlParseOptions {
  // Nesting of collections as written. Deeper input is refused while it is read, before
  // anything recurses over it.
  int max_depth = 1000;
  // Nodes of one document, keys included, counted once more for every alias that refers to
  // them (what a walk of the whole document visits).
  std::size_t max_nodes = 1'000'000;
};

// Reads a YAML stream (JSON is YAML) one document at a time, so that a caller can drop each
// tree before the next is built. `text` must outlive the parser. libyaml reads YAML 1.1.
class YamlStreamParser {
 public:
  explicit YamlStreamParser(std::string_view text, const YamlParseOptions& options = {});
  ~YamlStreamParser();
  YamlStreamParser(const YamlStreamParser&) = delete;
  YamlStreamParser& operator=(const YamlStreamParser&) = delete;

  // The root of the next document (a null node for an empty document); nullopt after the
  // last one. After an error every call returns that error again.
  std::expected<std::optional<YamlNodePtr>, YamlError> Next();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Every document of `text`, empty ones as null nodes.
std::expected<std::vector<YamlNodePtr>, YamlError> ParseYamlStream(
    std::string_view text, const YamlParseOptions& options = {});

}  // namespace bgpcomm::manifest
