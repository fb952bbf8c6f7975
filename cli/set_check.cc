#include "cli/set_check.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <type_traits>
#include <variant>

#include "manifest/object_decoder.h"

namespace bgpcomm::cli {
namespace {

community::ObjectMeta* MetaOf(manifest::DecodedObject& object) {
  return std::visit(
      [](auto& value) -> community::ObjectMeta* {
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::monostate>) {
          return nullptr;
        } else {
          return &value.meta;
        }
      },
      object);
}

void Append(community::Diagnostics& out, const manifest::Document& doc,
            const community::NamespaceContext& context,
            const community::AdmissionOptions& options) {
  auto add = [&out](const community::Diagnostics& found) {
    out.items.insert(out.items.end(), found.items.begin(), found.items.end());
  };
  if (const auto* community = std::get_if<community::CommunityObject>(&doc.object)) {
    add(community::ValidateCommunity(*community, nullptr, context, options));
  } else if (const auto* advertisement = std::get_if<community::Advertisement>(&doc.object)) {
    add(community::ValidateAdvertisement(*advertisement, nullptr, context, options).diagnostics);
  } else if (const auto* pool = std::get_if<community::AddressPool>(&doc.object)) {
    add(community::ValidatePool(*pool, context, options));
  } else if (const auto* peer = std::get_if<community::Peer>(&doc.object)) {
    add(community::ValidatePeer(*peer, context, options));
  } else if (const auto* profile = std::get_if<community::BfdProfile>(&doc.object)) {
    add(community::ValidateBfdProfile(*profile, options));
  }
}

}  // namespace

std::string EffectiveNamespace(const manifest::Document& document,
                               std::string_view default_namespace) {
  return document.namespace_name.empty() ? std::string(default_namespace) : document.namespace_name;
}

// A core/v1 Secret of the set as the rules see it: its type and data keys, never values.
std::optional<community::SecretSummary> SecretOf(const manifest::Document& doc) {
  if (doc.api_version != "v1" || doc.kind != "Secret" || doc.node == nullptr) return std::nullopt;
  community::SecretSummary secret;
  secret.meta.name = doc.name;
  secret.meta.namespace_name = doc.namespace_name;
  const manifest::YamlNode& type = manifest::FieldOf(*doc.node, "type");
  secret.type = type.IsScalar() ? type.text() : "Opaque";
  for (const char* field : {"data", "stringData"}) {
    for (const auto& entry : manifest::FieldOf(*doc.node, field).entries()) {
      secret.data_keys.push_back(entry.key->text());
    }
  }
  return secret;
}

NamespaceStates BuildNamespaces(manifest::ManifestSet& set, std::string_view default_namespace) {
  NamespaceStates states;
  for (manifest::Document& doc : set.documents) {
    if (auto secret = SecretOf(doc)) {
      if (secret->meta.namespace_name.empty()) {
        secret->meta.namespace_name = std::string(default_namespace);
      }
      auto [it, inserted] = states.try_emplace(secret->meta.namespace_name);
      it->second.objects.namespace_name = secret->meta.namespace_name;
      it->second.objects.secrets.push_back(std::move(*secret));
      continue;
    }
    community::ObjectMeta* meta = MetaOf(doc.object);
    if (meta == nullptr) continue;
    if (meta->namespace_name.empty()) meta->namespace_name = std::string(default_namespace);
    auto [it, inserted] = states.try_emplace(meta->namespace_name);
    community::NamespaceObjects& objects = it->second.objects;
    objects.namespace_name = meta->namespace_name;
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, community::CommunityObject>) {
            objects.communities.push_back(value);
          } else if constexpr (std::is_same_v<T, community::Advertisement>) {
            objects.advertisements.push_back(value);
          } else if constexpr (std::is_same_v<T, community::AddressPool>) {
            objects.pools.push_back(value);
          } else if constexpr (std::is_same_v<T, community::Peer>) {
            objects.peers.push_back(value);
          } else if constexpr (std::is_same_v<T, community::BfdProfile>) {
            objects.bfd_profiles.push_back(value);
          }
        },
        doc.object);
  }
  for (auto& [name, state] : states) {
    state.aliases = community::AliasTable::Build(state.objects.communities);
  }
  return states;
}

SetJudgment JudgeSet(const manifest::ManifestSet& set, const NamespaceStates& namespaces,
                     const community::AdmissionOptions& options) {
  SetJudgment judgment;
  // (kind, namespace, name) -> first document defining it.
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> seen;
  for (std::size_t i = 0; i < set.documents.size(); ++i) {
    const manifest::Document& doc = set.documents[i];
    community::Diagnostics diagnostics;
    diagnostics.items = doc.problems;
    if (doc.Judged()) {
      ++judgment.objects;
      std::string ns = EffectiveNamespace(doc, options.configured_namespace);
      auto state = namespaces.find(ns);
      if (state != namespaces.end()) {
        community::NamespaceContext context{state->second.objects, state->second.aliases};
        Append(diagnostics, doc, context, options);
      }
      // The rules may already warn about the namespace; report it once.
      community::Diagnostics namespace_check;
      community::CheckNamespace(ns, options, namespace_check);
      for (community::Diagnostic& diagnostic : namespace_check.items) {
        if (std::find(diagnostics.items.begin(), diagnostics.items.end(), diagnostic) ==
            diagnostics.items.end()) {
          diagnostics.items.push_back(std::move(diagnostic));
        }
      }
      auto [first, inserted] = seen.try_emplace({doc.kind, ns, doc.name}, i);
      if (!inserted && !doc.name.empty()) {
        const manifest::Document& other = set.documents[first->second];
        diagnostics.Warning("metadata.name", doc.kind + "/" + doc.name + " is also defined at " +
                                                 other.file + ":" + std::to_string(other.line) +
                                                 "; applying both keeps only the last");
      }
    }
    for (community::Diagnostic& diagnostic : diagnostics.items) {
      if (diagnostic.severity == community::Severity::kError) {
        ++judgment.errors;
      } else {
        ++judgment.warnings;
      }
      judgment.findings.push_back({i, std::move(diagnostic)});
    }
  }
  return judgment;
}

}  // namespace bgpcomm::cli
