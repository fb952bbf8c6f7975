// `bgpcomm resolve`: the manifests as the webhook would store them.
#pragma once

#include <expected>
#include <ostream>
#include <string>

#include "cli/options.h"
#include "cli/set_check.h"
#include "manifest/document.h"

namespace bgpcomm::cli {

// Writes onto every BGPAdvertisement of `set` what the mutating webhook stores
// (community::ComputeStored): the bgpcomm.io/resolved-communities annotation and, with
// ExpandMode::kInPlace, spec.communities. Then returns every source document as YAML,
// `---` separated, in input order; other documents keep their content. `set` must have been
// loaded with its trees (LoadOptions::keep_trees, the default).
std::expected<std::string, std::string> ResolveManifests(manifest::ManifestSet& set,
                                                         const NamespaceStates& namespaces,
                                                         const ResolveOptions& options);

// Loads and judges `options.paths` as `bgpcomm lint` does. Diagnostics (warnings
// included) go to `err` in lint's format; when the set has no errors the resolved
// manifests go to `out`. Returns kExitClean, kExitProblems (nothing printed to `out`) or
// kExitUnreadable.
int RunResolve(const ResolveOptions& options, std::ostream& out, std::ostream& err);

}  // namespace bgpcomm::cli
