#include "cli/resolve_command.h"

#include <variant>
#include <vector>

#include "community/annotation.h"
#include "manifest/loader.h"
#include "manifest/yaml_writer.h"

namespace bgpcomm::cli {
namespace {

using manifest::YamlNode;
using manifest::YamlNodePtr;

// A string scalar the writer quotes, whatever it looks like.
YamlNodePtr QuotedString(const std::string& text) { return YamlNode::Scalar(text, true); }

// Adds the annotation (and in-place communities) to the advertisement's tree. The decoder
// has checked that metadata, annotations and spec are mappings or absent; a tree that is
// not (one built elsewhere) is an error, not a crash.
std::expected<void, std::string> Store(manifest::Document& doc,
                                       const community::StoredCommunities& stored,
                                       community::ExpandMode mode) {
  auto fail = [&](std::string_view field) {
    return std::unexpected(doc.file + ":" + std::to_string(doc.LineOf(field)) + ": " +
                           std::string(field) + " is not a mapping");
  };
  if (doc.node == nullptr) return fail("object");
  YamlNode* metadata = doc.node->Child("metadata");
  if (metadata == nullptr) return fail("object");
  YamlNode* annotations = metadata->Child("annotations");
  if (annotations == nullptr) return fail("metadata");
  if (!annotations->Set(community::kResolvedAnnotation, QuotedString(stored.Annotation()))) {
    return fail("metadata.annotations");
  }
  if (mode == community::ExpandMode::kInPlace) {
    YamlNodePtr communities = YamlNode::Sequence();
    for (const std::string& entry : stored.spec_communities) {
      communities->Append(QuotedString(entry));
    }
    YamlNode* spec = doc.node->Child("spec");
    if (spec == nullptr || !spec->Set("communities", std::move(communities))) return fail("spec");
  }
  return {};
}

}  // namespace

std::expected<std::string, std::string> ResolveManifests(manifest::ManifestSet& set,
                                                         const NamespaceStates& namespaces,
                                                         const ResolveOptions& options) {
  static const community::AliasTable kNoAliases;
  for (manifest::Document& doc : set.documents) {
    const auto* advertisement = std::get_if<community::Advertisement>(&doc.object);
    if (advertisement == nullptr) continue;
    auto state = namespaces.find(advertisement->meta.namespace_name);
    const community::AliasTable& aliases =
        state != namespaces.end() ? state->second.aliases : kNoAliases;
    community::Diagnostics ignored;  // the same diagnostics JudgeSet reported
    community::StoredCommunities stored = community::ComputeStored(
        *advertisement, nullptr, aliases, options.unresolved, options.expand, ignored);
    if (auto stored_ok = Store(doc, stored, options.expand); !stored_ok) {
      return std::unexpected(stored_ok.error());
    }
  }
  std::vector<YamlNodePtr> nodes;
  nodes.reserve(set.sources.size());
  for (const manifest::SourceDocument& source : set.sources) nodes.push_back(source.node);
  return manifest::WriteDocuments(nodes);
}

int RunResolve(const ResolveOptions& options, std::ostream& out, std::ostream& err) {
  auto dump = [](const nlohmann::ordered_json& report) {
    return report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  };
  manifest::ManifestSet set =
      manifest::LoadPaths(options.paths, {.standard_input = options.standard_input});
  if (!set.ok()) {
    if (options.output == OutputFormat::kJson) {
      err << dump(ReportJson(set, nullptr, options.namespace_name)) << '\n';
    } else {
      WriteLoadErrorsText(set.errors, err);
    }
    return kExitUnreadable;
  }
  NamespaceStates namespaces = BuildNamespaces(set, options.namespace_name);
  SetJudgment judgment = JudgeSet(set, namespaces, ToAdmissionOptions(options));
  if (options.output == OutputFormat::kJson) {
    if (!judgment.findings.empty())
      err << dump(ReportJson(set, &judgment, options.namespace_name)) << '\n';
  } else {
    WriteFindingsText(set, judgment, err);
  }
  if (judgment.errors > 0) return kExitProblems;
  auto text = ResolveManifests(set, namespaces, options);
  if (!text) {
    err << "error: " << text.error() << '\n';
    return kExitUnreadable;
  }
  out << *text;
  return kExitClean;
}

}  // namespace bgpcomm::cli
