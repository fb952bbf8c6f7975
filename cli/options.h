// Options shared by `bgpcomm lint` and `bgpcomm resolve`, and the exit codes.
#pragma once

#include <iostream>
#include <string>
#include <vector>

#include "cli/report.h"
#include "community/admission.h"
#include "community/objects.h"

namespace bgpcomm::cli {

inline constexpr int kExitClean = 0;       // no errors (warnings allowed)
inline constexpr int kExitProblems = 1;    // the set has errors
inline constexpr int kExitUnreadable = 2;  // missing file, malformed YAML, bad usage

struct CheckOptions {
  std::vector<std::string> paths;  // files or folders
  // Namespace of objects without metadata.namespace, and the one the speaker serves.
  std::string namespace_name{community::kDefaultNamespace};
  OutputFormat output = OutputFormat::kText;
  community::UnresolvedPolicy unresolved = community::UnresolvedPolicy::kReject;
  // What the path "-" reads (`kustomize build . | bgpcomm lint -`), shown as <stdin>.
  std::istream* standard_input = &std::cin;
};

struct ResolveOptions : CheckOptions {
  community::ExpandMode expand = community::ExpandMode::kAnnotation;
};

inline community::AdmissionOptions ToAdmissionOptions(const CheckOptions& options) {
  community::AdmissionOptions out;
  out.configured_namespace = options.namespace_name;
  out.unresolved = options.unresolved;
  return out;
}

}  // namespace bgpcomm::cli
