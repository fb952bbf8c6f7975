// Judges a set of manifests the way the webhook judges each object against what the
// cluster stores: every object of the four metallb.io kinds is checked with the
// community/admission.h rules against all objects of its namespace in the set.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "community/admission.h"
#include "community/alias_table.h"
#include "community/diagnostic.h"
#include "community/objects.h"
#include "manifest/document.h"

namespace bgpcomm::cli {

// One problem of one object.
struct Finding {
  std::size_t document = 0;  // index into ManifestSet::documents
  community::Diagnostic diagnostic;
};

struct SetJudgment {
  std::vector<Finding> findings;  // by document in input order, then as found
  std::size_t errors = 0;
  std::size_t warnings = 0;
  std::size_t objects = 0;  // objects judged (the four metallb.io kinds)
};

// The objects of one namespace and their aliases: what the webhook's cache would hold.
struct NamespaceState {
  community::NamespaceObjects objects;
  community::AliasTable aliases;
};
using NamespaceStates = std::map<std::string, NamespaceState, std::less<>>;

// The namespace an object is judged in: metadata.namespace, else `default_namespace`.
std::string EffectiveNamespace(const manifest::Document& document,
                               std::string_view default_namespace);

// Sets the namespace of every decoded object without one to `default_namespace` and groups
// the objects by namespace, each with its AliasTable.
NamespaceStates BuildNamespaces(manifest::ManifestSet& set, std::string_view default_namespace);

// Decoding problems, then the admission rules, for every document; warns about objects
// defined twice. `options.configured_namespace` is also the default namespace.
SetJudgment JudgeSet(const manifest::ManifestSet& set, const NamespaceStates& namespaces,
                     const community::AdmissionOptions& options);

}  // namespace bgpcomm::cli
