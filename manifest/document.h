// What the manifest loader produces: Kubernetes objects read from YAML or JSON files,
// each with its file, its line and the line of every field, and (for the four metallb.io
// kinds bgpcomm judges) the decoded community/objects.h struct.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "community/diagnostic.h"
#include "community/objects.h"
#include "manifest/yaml_tree.h"

namespace bgpcomm::manifest {

// Input that cannot be read as manifests: a missing file, malformed YAML, a document that
// is not a Kubernetes object. `line` is 1-based, 0 when no line applies.
struct LoadError {
  std::string file;
  int line = 0;
  std::string message;

  // `FILE:LINE: message` (`FILE: message` without a line).
  std::string ToString() const;
  bool operator==(const LoadError&) const = default;
};

// Field path (`spec.communities[0]`, `metadata.name`) -> 1-based line of that field in
// its file: the line of the key for a mapping entry, of the item for a sequence entry.
class FieldLines {
 public:
  // Records `line` for `path` unless a line is already recorded for it.
  void Record(std::string path, int line);
  // The line of `path`, else of its nearest recorded parent (`a.b[0].c`, `a.b[0]`, `a.b`,
  // `a`), else `fallback`.
  int Find(std::string_view path, int fallback) const;
  std::size_t size() const { return lines_.size(); }

 private:
  std::unordered_map<std::string, int> lines_;
};

// The decoded object: one of the kinds bgpcomm judges, or monostate for any other.
using DecodedObject =
    std::variant<std::monostate, community::CommunityObject, community::Advertisement,
                 community::AddressPool, community::Peer, community::BfdProfile>;

// One Kubernetes object. Items of a `kind: List` are objects of their own.
struct Document {
  std::string file;            // as it will be shown to the user
  int line = 0;                // 1-based line where the object starts
  std::size_t source = 0;      // index into ManifestSet::sources of the document holding it
                               // (0 when trees are not kept)
  std::string api_version;     // e.g. "metallb.io/v1beta1"
  std::string kind;            // e.g. "BGPAdvertisement"
  std::string name;            // metadata.name, "" when absent
  std::string namespace_name;  // metadata.namespace as written, "" when absent
  // The object's tree, shared with its SourceDocument (a List item is a node of the List's
  // tree); null when the loader was told not to keep trees (LoadOptions::keep_trees).
  YamlNodePtr node;
  FieldLines field_lines;
  DecodedObject object;  // monostate for kinds bgpcomm does not judge
  // Problems found while decoding (wrong field types, missing name, unknown fields), with
  // the field paths the admission rules use.
  std::vector<community::Diagnostic> problems;

  // True for the four metallb.io kinds bgpcomm judges.
  bool Judged() const { return !std::holds_alternative<std::monostate>(object); }
  // The line of `field`, of its nearest parent, or of the object.
  int LineOf(std::string_view field) const { return field_lines.Find(field, line); }
};

// One non-empty YAML document of an input file, as parsed.
struct SourceDocument {
  std::string file;
  int line = 0;
  YamlNodePtr node;  // never null
};

// Everything read from a set of inputs, in input order (files in command-line order,
// folders recursed in sorted order, documents in file order, List items in list order).
struct ManifestSet {
  std::vector<std::string> files;       // every file read
  std::vector<SourceDocument> sources;  // every non-empty document, when trees are kept
  std::vector<Document> documents;      // every object, Lists expanded
  std::vector<LoadError> errors;        // non-empty: the input is unreadable

  bool ok() const { return errors.empty(); }
};

}  // namespace bgpcomm::manifest
