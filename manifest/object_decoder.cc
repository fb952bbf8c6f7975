#include "manifest/object_decoder.h"

#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>
#include <string>
#include <utility>
#include <vector>

#include "community/schema.h"
#include "manifest/scalar.h"

namespace bgpcomm::manifest {
namespace {

using community::ChildPath;
using community::Diagnostic;
using community::IndexPath;
using community::Severity;

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  if (out.size() > 81) out = out.substr(0, 77) + "...";
  out += '"';
  return out;
}

class StructureWalker {
 public:
  StructureWalker(const DecodeLimits& limits, FieldLines* lines) : limits_(limits), lines_(lines) {}

  bool Walk(const YamlNode& node, const std::string& path, int depth) {
    if (++visited_ > limits_.max_nodes) {
      return Fail(node, "document has more than " + std::to_string(limits_.max_nodes) +
                            " nodes (aliases counted each time they are used)");
    }
    if (depth > limits_.max_depth) {
      return Fail(node, "document nests deeper than " + std::to_string(limits_.max_depth) +
                            " levels (or an anchor refers to itself)");
    }
    if (node.IsMapping()) {
      // Kubernetes objects have few keys per mapping: a linear scan beats a set there,
      // and a set keeps hostile mappings with many keys linear.
      const std::vector<YamlEntry>& entries = node.entries();
      constexpr std::size_t kLinearScanKeys = 16;
      std::unordered_set<std::string_view> seen;
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const YamlNode& key = *entries[i].key;
        if (!key.IsScalar()) return Fail(key, "mapping key is not a scalar");
        bool repeated = false;
        if (entries.size() <= kLinearScanKeys) {
          for (std::size_t j = 0; j < i && !repeated; ++j) {
            repeated = entries[j].key->text() == key.text();
          }
        } else {
          repeated = !seen.insert(key.text()).second;
        }
        if (repeated) return Fail(key, "duplicate mapping key " + Quote(key.text()));
        std::string child = ChildPath(path, key.text());
        Record(child, key);
        if (!Walk(*entries[i].value, child, depth + 1)) return false;
      }
    } else if (node.IsSequence()) {
      std::size_t index = 0;
      for (const YamlNodePtr& item : node.items()) {
        std::string child = IndexPath(path, index++);
        Record(child, *item);
        if (!Walk(*item, child, depth + 1)) return false;
      }
    }
    return true;
  }

  const std::string& error() const { return error_; }
  int error_line() const { return error_line_; }

 private:
  void Record(const std::string& path, const YamlNode& node) {
    int line = LineOf(node);
    if (lines_ != nullptr && line > 0) lines_->Record(path, line);
  }
  bool Fail(const YamlNode& node, std::string message) {
    error_ = std::move(message);
    error_line_ = LineOf(node);
    return false;
  }

  const DecodeLimits& limits_;
  FieldLines* lines_;
  std::size_t visited_ = 0;
  std::string error_;
  int error_line_ = 0;
};

// `a list`, `string "abc"`: what was found where something else was expected.
std::string Describe(const YamlNode& node) {
  if (node.IsMapping()) return "a mapping";
  if (node.IsSequence()) return "a list";
  switch (Classify(node)) {
    case ScalarType::kNull:
      return "null";
    case ScalarType::kBool:
      return "boolean " + node.text();
    case ScalarType::kInteger:
      return "integer " + node.text();
    case ScalarType::kFloat:
      return "number " + node.text();
    case ScalarType::kString:
      return "string " + Quote(node.text());
  }
  return "a value";
}

// Reads the fields of the community/schema.h tables from YAML nodes and reports every
// wrongly typed field under its path. Null values count as absent, as the API server
// prunes them.
class Decoder {
 public:
  // `unknown_fields`: report keys without a table entry (false for kinds whose tables
  // cover only the fields bgpcomm reads).
  explicit Decoder(std::vector<Diagnostic>& problems, bool unknown_fields = true)
      : problems_(problems), unknown_fields_(unknown_fields) {}

  void Error(std::string path, std::string message) {
    problems_.push_back({Severity::kError, std::move(path), std::move(message)});
  }
  void Unknown(std::string path) {
    problems_.push_back({Severity::kWarning, std::move(path),
                         "unknown field; the API server drops it or rejects the object"});
  }

  // Decodes the mapping `node` into `object` through its field table. Keys without a table
  // entry are warnings unless `report_unknown` is false (metadata has many more fields).
  template <typename T>
  void ReadObject(const YamlNode& node, const std::string& path, T& object,
                  bool report_unknown = true) {
    if (node.IsNull()) return;
    if (!node.IsMapping()) {
      Error(path, "must be a mapping, got " + Describe(node));
      return;
    }
    for (const YamlEntry& entry : node.entries()) {
      std::string child = ChildPath(path, entry.key->text());
      const YamlNode& value = *entry.value;
      bool known = community::ReadField(object, entry.key->text(),
                                        [&](auto& member) { Read(value, child, member); });
      if (!known && report_unknown && unknown_fields_) Unknown(std::move(child));
    }
  }

  void Read(const YamlNode& node, const std::string& path, std::string& out) {
    if (auto text = String(node, path)) out = std::move(*text);
  }
  void Read(const YamlNode& node, const std::string& path, std::optional<std::string>& out) {
    if (auto text = String(node, path)) out = std::move(*text);
  }
  void Read(const YamlNode& node, const std::string& path, std::optional<std::int64_t>& out) {
    if (auto value = Integer(node, path)) out = value;
  }
  void Read(const YamlNode& node, const std::string& path, bool& out) {
    if (auto value = Bool(node, path)) out = *value;
  }
  void Read(const YamlNode& node, const std::string& path, std::optional<bool>& out) {
    if (auto value = Bool(node, path)) out = value;
  }
  // A wrongly typed item keeps its place (as its text, or "") so that later field paths
  // `path[i]` still point at the item written.
  void Read(const YamlNode& node, const std::string& path, std::vector<std::string>& out) {
    if (!IsList(node, path)) return;
    std::size_t index = 0;
    for (const YamlNodePtr& item : node.items()) {
      out.push_back(String(*item, IndexPath(path, index++)).value_or(""));
    }
  }
  void Read(const YamlNode& node, const std::string& path,
            std::map<std::string, std::string>& out) {
    if (node.IsNull()) return;
    if (!node.IsMapping()) {
      Error(path, "must be a mapping, got " + Describe(node));
      return;
    }
    for (const YamlEntry& entry : node.entries()) {
      auto text = String(*entry.value, ChildPath(path, entry.key->text()));
      out.emplace(entry.key->text(), text.value_or(""));
    }
  }
  template <typename T>
  void Read(const YamlNode& node, const std::string& path, T& out) {
    ReadObject(node, path, out);
  }
  template <typename T>
  void Read(const YamlNode& node, const std::string& path, std::optional<T>& out) {
    if (node.IsNull()) return;
    ReadObject(node, path, out.emplace());
  }
  template <typename T>
  void Read(const YamlNode& node, const std::string& path, std::vector<T>& out) {
    if (!IsList(node, path)) return;
    std::size_t index = 0;
    for (const YamlNodePtr& item : node.items()) {
      ReadObject(*item, IndexPath(path, index++), out.emplace_back());
    }
  }

 private:
  bool IsList(const YamlNode& node, const std::string& path) {
    if (node.IsNull()) return false;
    if (!node.IsSequence()) {
      Error(path, "must be a list, got " + Describe(node));
      return false;
    }
    return true;
  }

  std::optional<std::string> String(const YamlNode& node, const std::string& path) {
    if (node.IsNull()) return std::nullopt;
    if (!node.IsScalar()) {
      Error(path, "must be a string, got " + Describe(node));
      return std::nullopt;
    }
    if (Classify(node) != ScalarType::kString) {
      Error(path, "must be a string, got " + Describe(node) + " (quote it)");
      return node.text();
    }
    return node.text();
  }

  std::optional<std::int64_t> Integer(const YamlNode& node, const std::string& path) {
    if (node.IsNull()) return std::nullopt;
    if (!node.IsScalar() || Classify(node) != ScalarType::kInteger) {
      Error(path, "must be an integer, got " + Describe(node));
      return std::nullopt;
    }
    std::string_view text = node.text();
    if (!text.empty() && text[0] == '+') text.remove_prefix(1);
    std::int64_t value = 0;
    int base = 10;
    if (IsHexInteger(text)) {
      text.remove_prefix(2);
      base = 16;
    }
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size()) {
      Error(path, "integer " + node.text() + " is out of range");
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> Bool(const YamlNode& node, const std::string& path) {
    if (node.IsNull()) return std::nullopt;
    if (!node.IsScalar() || Classify(node) != ScalarType::kBool) {
      Error(path, "must be true or false, got " + Describe(node));
      return std::nullopt;
    }
    return IsTrueWord(node.text());
  }

  std::vector<Diagnostic>& problems_;
  bool unknown_fields_ = true;
};

// Decodes metadata and spec of a kind with a field table.
template <typename T>
T DecodeKind(Decoder& decoder, const YamlNode& object) {
  T out;
  decoder.ReadObject(FieldOf(object, "metadata"), "metadata", out.meta, /*report_unknown=*/false);
  if (out.meta.name.empty()) decoder.Error("metadata.name", "is required");
  decoder.ReadObject(FieldOf(object, "spec"), "spec", out);
  return out;
}

bool IsMetallbKind(std::string_view kind) {
  return kind == "Community" || kind == "BGPAdvertisement" || kind == "IPAddressPool" ||
         kind == "BGPPeer" || kind == "BFDProfile";
}

}  // namespace

const YamlNode& FieldOf(const YamlNode& node, std::string_view key) {
  static const YamlNode kAbsent;  // immutable: a null node without a position
  const YamlNode* value = node.Find(key);
  return value != nullptr ? *value : kAbsent;
}

int LineOf(const YamlNode& node) { return node.line(); }

std::expected<void, std::string> CheckStructure(const YamlNode& node, const DecodeLimits& limits,
                                                FieldLines* lines, int* error_line) {
  StructureWalker walker(limits, lines);
  if (walker.Walk(node, "", 0)) return {};
  if (error_line != nullptr) *error_line = walker.error_line();
  return std::unexpected(walker.error());
}

community::ServiceObject DecodeService(const YamlNode& object,
                                       std::vector<community::Diagnostic>& problems) {
  Decoder decoder(problems, /*unknown_fields=*/false);
  community::ServiceObject out;
  decoder.ReadObject(FieldOf(object, "metadata"), "metadata", out.meta);
  decoder.ReadObject(FieldOf(object, "spec"), "spec", out);
  decoder.ReadObject(FieldOf(object, "status"), "status", out.status);
  return out;
}

community::NodeSummary DecodeNode(const YamlNode& object,
                                  std::vector<community::Diagnostic>& problems) {
  Decoder decoder(problems, /*unknown_fields=*/false);
  community::ObjectMeta meta;
  decoder.ReadObject(FieldOf(object, "metadata"), "metadata", meta);
  return {std::move(meta.name), std::move(meta.labels)};
}

bool IsJudgedKind(std::string_view api_version, std::string_view kind) {
  if (api_version == "metallb.io/v1beta1") return IsMetallbKind(kind);
  return api_version == "metallb.io/v1beta2" && kind == "BGPPeer";
}

std::expected<Document, LoadError> DecodeObject(YamlNodePtr root, std::string_view file,
                                                const DecodeLimits& limits, bool record_lines) {
  if (root == nullptr) root = YamlNode::Null();
  const YamlNode& node = *root;
  Document doc;
  doc.file = std::string(file);
  doc.line = LineOf(node);
  doc.node = std::move(root);
  auto fail = [&](int line, std::string message) {
    return std::unexpected(LoadError{doc.file, line > 0 ? line : doc.line, std::move(message)});
  };
  if (!node.IsMapping()) {
    return fail(doc.line, "expected a Kubernetes object (a mapping), got " + Describe(node));
  }
  int error_line = 0;
  if (auto checked =
          CheckStructure(node, limits, record_lines ? &doc.field_lines : nullptr, &error_line);
      !checked) {
    return fail(error_line, checked.error());
  }
  const YamlNode& api_version = FieldOf(node, "apiVersion");
  const YamlNode& kind = FieldOf(node, "kind");
  if (!api_version.IsScalar() || Classify(api_version) != ScalarType::kString ||
      api_version.text().empty()) {
    return fail(doc.LineOf("apiVersion"), "object has no apiVersion (a string)");
  }
  if (!kind.IsScalar() || Classify(kind) != ScalarType::kString || kind.text().empty()) {
    return fail(doc.LineOf("kind"), "object has no kind (a string)");
  }
  doc.api_version = api_version.text();
  doc.kind = kind.text();
  const YamlNode& metadata = FieldOf(node, "metadata");
  if (const YamlNode& name = FieldOf(metadata, "name"); name.IsScalar()) doc.name = name.text();
  if (const YamlNode& ns = FieldOf(metadata, "namespace"); ns.IsScalar())
    doc.namespace_name = ns.text();

  if (!IsJudgedKind(doc.api_version, doc.kind)) {
    if (doc.api_version.starts_with("metallb.io/") && IsMetallbKind(doc.kind)) {
      doc.problems.push_back({Severity::kWarning, "apiVersion",
                              doc.api_version + " " + doc.kind +
                                  " is not a version bgpcomm checks; the object is ignored"});
    } else if (doc.api_version.starts_with("metallb.io/") &&
               (doc.kind == "L2Advertisement" || doc.kind == "ServiceL2Status")) {
      doc.problems.push_back({Severity::kWarning, "kind",
                              doc.kind +
                                  " is not judged: bgpcomm serves MetalLB's BGP mode only, and "
                                  "nothing in this set checks Layer 2 objects"});
    }
    return doc;
  }

  Decoder decoder(doc.problems);
  if (doc.kind == "Community") {
    doc.object = DecodeKind<community::CommunityObject>(decoder, node);
  } else if (doc.kind == "BGPAdvertisement") {
    doc.object = DecodeKind<community::Advertisement>(decoder, node);
  } else if (doc.kind == "IPAddressPool") {
    doc.object = DecodeKind<community::AddressPool>(decoder, node);
  } else if (doc.kind == "BFDProfile") {
    doc.object = DecodeKind<community::BfdProfile>(decoder, node);
  } else {
    doc.object = DecodeKind<community::Peer>(decoder, node);
  }
  return doc;
}

}  // namespace bgpcomm::manifest
