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

#include "manifest/scalar.h"

namespace bgpcomm::manifest {
namespace {

using community::Diagnostic;
using community::Severity;

bool IsPlainKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// `spec` + `communities` -> `spec.communities`; keys that are not identifiers (annotation
// names such as `bgpcomm.io/resolved-communities`) are bracketed.
std::string ChildPath(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (IsPlainKey(key)) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += '[';
    out += key;
    out += ']';
  }
  return out;
}

std::string IndexPath(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

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

// Keys and values of a mapping; both live in the tree being decoded.
using Fields = std::vector<std::pair<std::string_view, const YamlNode&>>;

// Reads typed fields and reports every wrongly typed one under its field path. Null values
// count as absent, as the API server prunes them.
class Decoder {
 public:
  explicit Decoder(std::vector<Diagnostic>& problems) : problems_(problems) {}

  void Error(std::string path, std::string message) {
    problems_.push_back({Severity::kError, std::move(path), std::move(message)});
  }
  void Warning(std::string path, std::string message) {
    problems_.push_back({Severity::kWarning, std::move(path), std::move(message)});
  }
  void Unknown(std::string path) {
    Warning(std::move(path), "unknown field; the API server drops it or rejects the object");
  }

  // The entries of a mapping; empty (with an error unless null) for anything else.
  Fields MapFields(const YamlNode& node, const std::string& path) {
    Fields out;
    if (node.IsNull()) return out;
    if (!node.IsMapping()) {
      Error(path, "must be a mapping, got " + Describe(node));
      return out;
    }
    out.reserve(node.size());
    for (const YamlEntry& entry : node.entries()) out.emplace_back(entry.key->text(), *entry.value);
    return out;
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

  // A list of strings. Wrongly typed items keep their place (as their text, or "") so that
  // later field paths `path[i]` still point at the item written.
  std::vector<std::string> StringList(const YamlNode& node, const std::string& path) {
    std::vector<std::string> out;
    if (node.IsNull()) return out;
    if (!node.IsSequence()) {
      Error(path, "must be a list, got " + Describe(node));
      return out;
    }
    std::size_t index = 0;
    for (const YamlNodePtr& item : node.items()) {
      out.push_back(String(*item, IndexPath(path, index++)).value_or(""));
    }
    return out;
  }

  std::map<std::string, std::string> StringMap(const YamlNode& node, const std::string& path) {
    std::map<std::string, std::string> out;
    for (auto& [key, value] : MapFields(node, path)) {
      auto text = String(value, ChildPath(path, key));
      out.emplace(key, text.value_or(""));
    }
    return out;
  }

  community::LabelSelector Selector(const YamlNode& node, const std::string& path) {
    community::LabelSelector out;
    for (auto& [key, value] : MapFields(node, path)) {
      std::string child = ChildPath(path, key);
      if (key == "matchLabels") {
        out.match_labels = StringMap(value, child);
      } else if (key == "matchExpressions") {
        out.match_expressions = Requirements(value, child);
      } else {
        Unknown(child);
      }
    }
    return out;
  }

  std::vector<community::LabelSelector> SelectorList(const YamlNode& node,
                                                     const std::string& path) {
    std::vector<community::LabelSelector> out;
    if (node.IsNull()) return out;
    if (!node.IsSequence()) {
      Error(path, "must be a list, got " + Describe(node));
      return out;
    }
    std::size_t index = 0;
    for (const YamlNodePtr& item : node.items()) {
      out.push_back(Selector(*item, IndexPath(path, index++)));
    }
    return out;
  }

 private:
  std::vector<community::LabelSelectorRequirement> Requirements(const YamlNode& node,
                                                                const std::string& path) {
    std::vector<community::LabelSelectorRequirement> out;
    if (node.IsNull()) return out;
    if (!node.IsSequence()) {
      Error(path, "must be a list, got " + Describe(node));
      return out;
    }
    std::size_t index = 0;
    for (const YamlNodePtr& node_item : node.items()) {
      std::string item = IndexPath(path, index++);
      community::LabelSelectorRequirement requirement;
      for (auto& [key, value] : MapFields(*node_item, item)) {
        std::string child = ChildPath(item, key);
        if (key == "key") {
          requirement.key = String(value, child).value_or("");
        } else if (key == "operator") {
          requirement.op = String(value, child).value_or("");
        } else if (key == "values") {
          requirement.values = StringList(value, child);
        } else {
          Unknown(child);
        }
      }
      out.push_back(std::move(requirement));
    }
    return out;
  }

  std::vector<Diagnostic>& problems_;
};

community::ObjectMeta DecodeMeta(Decoder& decoder, const YamlNode& object) {
  community::ObjectMeta meta;
  for (auto& [key, value] : decoder.MapFields(FieldOf(object, "metadata"), "metadata")) {
    std::string path = ChildPath("metadata", key);
    if (key == "name") {
      meta.name = decoder.String(value, path).value_or("");
    } else if (key == "namespace") {
      meta.namespace_name = decoder.String(value, path).value_or("");
    } else if (key == "labels") {
      meta.labels = decoder.StringMap(value, path);
    } else if (key == "annotations") {
      meta.annotations = decoder.StringMap(value, path);
    }
  }
  if (meta.name.empty()) decoder.Error("metadata.name", "is required");
  return meta;
}

community::CommunityObject DecodeCommunity(Decoder& decoder, const Fields& spec) {
  community::CommunityObject out;
  for (auto& [key, value] : spec) {
    std::string path = ChildPath("spec", key);
    if (key != "communities") {
      decoder.Unknown(path);
      continue;
    }
    if (value.IsNull()) continue;
    if (!value.IsSequence()) {
      decoder.Error(path, "must be a list, got " + Describe(value));
      continue;
    }
    std::size_t index = 0;
    for (const YamlNodePtr& value_item : value.items()) {
      std::string item = IndexPath(path, index++);
      community::CommunityAlias alias;
      for (auto& [field, field_value] : decoder.MapFields(*value_item, item)) {
        std::string child = ChildPath(item, field);
        if (field == "name") {
          alias.name = decoder.String(field_value, child).value_or("");
        } else if (field == "value") {
          alias.value = decoder.String(field_value, child).value_or("");
        } else {
          decoder.Unknown(child);
        }
      }
      out.aliases.push_back(std::move(alias));
    }
  }
  return out;
}

community::Advertisement DecodeAdvertisement(Decoder& decoder, const Fields& spec) {
  community::Advertisement out;
  for (auto& [key, value] : spec) {
    std::string path = ChildPath("spec", key);
    if (key == "aggregationLength") {
      out.aggregation_length = decoder.Integer(value, path);
    } else if (key == "aggregationLengthV6") {
      out.aggregation_length_v6 = decoder.Integer(value, path);
    } else if (key == "localPref") {
      out.local_pref = decoder.Integer(value, path);
    } else if (key == "communities") {
      out.communities = decoder.StringList(value, path);
    } else if (key == "ipAddressPools") {
      out.ip_address_pools = decoder.StringList(value, path);
    } else if (key == "ipAddressPoolSelectors") {
      out.ip_address_pool_selectors = decoder.SelectorList(value, path);
    } else if (key == "nodeSelectors") {
      out.node_selectors = decoder.SelectorList(value, path);
    } else if (key == "peers") {
      out.peers = decoder.StringList(value, path);
    } else {
      decoder.Unknown(path);
    }
  }
  return out;
}

community::AddressPool DecodePool(Decoder& decoder, const Fields& spec) {
  community::AddressPool out;
  for (auto& [key, value] : spec) {
    std::string path = ChildPath("spec", key);
    if (key == "addresses") {
      out.addresses = decoder.StringList(value, path);
    } else if (key == "autoAssign") {
      out.auto_assign = decoder.Bool(value, path);
    } else if (key == "avoidBuggyIPs") {
      decoder.Bool(value, path);
    } else if (key == "serviceAllocation") {
      decoder.MapFields(value, path);
    } else {
      decoder.Unknown(path);
    }
  }
  return out;
}

community::Peer DecodePeer(Decoder& decoder, const Fields& spec) {
  community::Peer out;
  for (auto& [key, value] : spec) {
    std::string path = ChildPath("spec", key);
    if (key == "myASN") {
      out.my_asn = decoder.Integer(value, path);
    } else if (key == "peerASN") {
      out.peer_asn = decoder.Integer(value, path);
    } else if (key == "dynamicASN") {
      out.dynamic_asn = decoder.String(value, path).value_or("");
    } else if (key == "peerAddress") {
      out.peer_address = decoder.String(value, path).value_or("");
    } else if (key == "sourceAddress") {
      out.source_address = decoder.String(value, path).value_or("");
    } else if (key == "peerPort") {
      out.peer_port = decoder.Integer(value, path);
    } else if (key == "holdTime") {
      out.hold_time = decoder.String(value, path).value_or("");
    } else if (key == "keepaliveTime") {
      out.keepalive_time = decoder.String(value, path).value_or("");
    } else if (key == "connectTime") {
      out.connect_time = decoder.String(value, path).value_or("");
    } else if (key == "routerID") {
      out.router_id = decoder.String(value, path).value_or("");
    } else if (key == "nodeSelectors") {
      out.node_selectors = decoder.SelectorList(value, path);
    } else if (key == "password") {
      out.password = decoder.String(value, path).value_or("");
    } else if (key == "passwordSecret") {
      // A SecretReference {name, namespace}.
      for (auto& [field, field_value] : decoder.MapFields(value, path)) {
        std::string child = ChildPath(path, field);
        if (field == "name") {
          out.password_secret = decoder.String(field_value, child).value_or("");
        } else if (field == "namespace") {
          decoder.String(field_value, child);
        } else {
          decoder.Unknown(child);
        }
      }
    } else if (key == "ebgpMultiHop") {
      out.ebgp_multihop = decoder.Bool(value, path).value_or(false);
      if (out.ebgp_multihop) out.ebgp_multihop_ttl = 255;
    } else if (key == "dualStackAddressFamily") {
      out.dual_stack_address_family = decoder.Bool(value, path).value_or(false);
    } else if (key == "disableMP") {
      out.disable_mp = decoder.Bool(value, path).value_or(false);
    } else if (key == "vrf") {
      out.vrf = decoder.String(value, path).value_or("");
    } else if (key == "bfdProfile" || key == "interface") {
      decoder.String(value, path);
    } else if (key == "enableGracefulRestart") {
      decoder.Bool(value, path);
    } else {
      decoder.Unknown(path);
    }
  }
  return out;
}

bool IsMetallbKind(std::string_view kind) {
  return kind == "Community" || kind == "BGPAdvertisement" || kind == "IPAddressPool" ||
         kind == "BGPPeer";
}

}  // namespace

const YamlNode& FieldOf(const YamlNode& node, std::string_view key) {
  static const YamlNode kAbsent;  // immutable: a null node without a position
  const YamlNode* value = node.Find(key);
  return value != nullptr ? *value : kAbsent;
}

int LineOf(const YamlNode& node) {
  return node.line();
}

std::expected<void, std::string> CheckStructure(const YamlNode& node, const DecodeLimits& limits,
                                                FieldLines* lines, int* error_line) {
  StructureWalker walker(limits, lines);
  if (walker.Walk(node, "", 0)) return {};
  if (error_line != nullptr) *error_line = walker.error_line();
  return std::unexpected(walker.error());
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
  if (auto checked = CheckStructure(node, limits, record_lines ? &doc.field_lines : nullptr,
                                    &error_line);
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
    }
    return doc;
  }

  Decoder decoder(doc.problems);
  community::ObjectMeta meta = DecodeMeta(decoder, node);
  Fields spec = decoder.MapFields(FieldOf(node, "spec"), "spec");
  if (doc.kind == "Community") {
    auto object = DecodeCommunity(decoder, spec);
    object.meta = std::move(meta);
    doc.object = std::move(object);
  } else if (doc.kind == "BGPAdvertisement") {
    auto object = DecodeAdvertisement(decoder, spec);
    object.meta = std::move(meta);
    doc.object = std::move(object);
  } else if (doc.kind == "IPAddressPool") {
    auto object = DecodePool(decoder, spec);
    object.meta = std::move(meta);
    doc.object = std::move(object);
  } else {
    auto object = DecodePeer(decoder, spec);
    object.meta = std::move(meta);
    doc.object = std::move(object);
  }
  return doc;
}

}  // namespace bgpcomm::manifest
