#include "manifest/yaml_writer.h"

#include <yaml-cpp/emitter.h>
#include <yaml-cpp/emittermanip.h>

#include <exception>

#include "manifest/scalar.h"

namespace bgpcomm::manifest {
namespace {

// A tag worth writing: "!" (the non-specific tag) only says "a string", which quoting says.
bool HasExplicitTag(const std::string& tag) { return !tag.empty() && tag != "!"; }

bool HasControlCharacter(const std::string& text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return true;
  }
  return false;
}

void Write(YAML::Emitter& out, const YamlNode& node, bool is_key) {
  const std::string& tag = node.tag();
  if (HasExplicitTag(tag)) out << YAML::VerbatimTag(tag);
  switch (node.kind()) {
    case YamlKind::kNull:
      out << YAML::Null;
      break;
    case YamlKind::kScalar: {
      // A quoted input scalar (or one tagged "!") is a string whatever it looks like: keep it
      // quoted (single quotes; yaml-cpp falls back to double quotes where single ones cannot
      // be used). Keys (`"kind"` in JSON input) are unquoted where that reads back the same.
      // Control characters (from escapes in the input) only survive double quotes.
      bool string = tag == "!" || (tag.empty() && node.quoted());
      if (HasControlCharacter(node.text())) {
        out << YAML::DoubleQuoted;
      } else if (string && !(is_key && ReadsAsString(node.text()))) {
        out << YAML::SingleQuoted;
      }
      out << node.text();
      break;
    }
    case YamlKind::kSequence:
      // Empty collections in flow style (`[]`, `{}`) stay on the key's line.
      if (node.size() == 0) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const YamlNodePtr& item : node.items()) Write(out, *item, false);
      out << YAML::EndSeq;
      break;
    case YamlKind::kMapping:
      if (node.size() == 0) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const YamlEntry& entry : node.entries()) {
        out << YAML::Key;
        Write(out, *entry.key, true);
        out << YAML::Value;
        Write(out, *entry.value, false);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

std::expected<std::string, std::string> WriteYaml(const YamlNode& node) {
  try {
    YAML::Emitter out;
    out.SetIndent(2);
    out.SetSeqFormat(YAML::Block);
    out.SetMapFormat(YAML::Block);
    Write(out, node, false);
    if (!out.good()) return std::unexpected("cannot write YAML: " + out.GetLastError());
    std::string text(out.c_str(), out.size());  // scalars may hold NUL
    if (text.empty() || text.back() != '\n') text += '\n';
    return text;
  } catch (const std::exception& e) {
    return std::unexpected(std::string("cannot write YAML: ") + e.what());
  }
}

std::expected<std::string, std::string> WriteDocuments(std::span<const YamlNodePtr> nodes) {
  std::string out;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto text = WriteYaml(*nodes[i]);
    if (!text) return text;
    if (i > 0) out += "---\n";
    out += *text;
  }
  return out;
}

}  // namespace bgpcomm::manifest
