#include "manifest/yaml_writer.h"

#include <exception>

#include "manifest/scalar.h"

namespace bgpcomm::manifest {
namespace {

bool HasExplicitTag(const std::string& tag) { return !tag.empty() && tag != "?" && tag != "!"; }

bool HasControlCharacter(const std::string& text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return true;
  }
  return false;
}

void Write(YAML::Emitter& out, const YAML::Node& node, bool is_key) {
  const std::string& tag = node.Tag();
  if (HasExplicitTag(tag)) out << YAML::VerbatimTag(tag);
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out << YAML::Null;
      break;
    case YAML::NodeType::Scalar:
      // A quoted input scalar ("!" tag) is a string whatever it looks like: keep it quoted
      // (single quotes; yaml-cpp falls back to double quotes where single ones cannot be used).
      // Keys (`"kind"` in JSON input) are unquoted where that reads back the same.
      // Control characters (from escapes in the input) only survive double quotes.
      if (HasControlCharacter(node.Scalar())) {
        out << YAML::DoubleQuoted;
      } else if (tag == "!" && !(is_key && ReadsAsString(node.Scalar()))) {
        out << YAML::SingleQuoted;
      }
      out << node.Scalar();
      break;
    case YAML::NodeType::Sequence:
      // Empty collections in flow style (`[]`, `{}`) stay on the key's line.
      if (node.size() == 0) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (auto it = node.begin(); it != node.end(); ++it) Write(out, *it, false);
      out << YAML::EndSeq;
      break;
    case YAML::NodeType::Map:
      if (node.size() == 0) out << YAML::Flow;
      out << YAML::BeginMap;
      for (auto it = node.begin(); it != node.end(); ++it) {
        out << YAML::Key;
        Write(out, it->first, true);
        out << YAML::Value;
        Write(out, it->second, false);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

std::expected<std::string, std::string> WriteYaml(const YAML::Node& node) {
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

std::expected<std::string, std::string> WriteDocuments(std::span<const YAML::Node> nodes) {
  std::string out;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto text = WriteYaml(nodes[i]);
    if (!text) return text;
    if (i > 0) out += "---\n";
    out += *text;
  }
  return out;
}

}  // namespace bgpcomm::manifest
