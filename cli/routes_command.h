// `bgpcomm routes`: the announcements each speaker would make from a set of manifests, or,
// with a base set, only what a change does to the routers.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cli/report.h"

namespace bgpcomm::cli {

inline constexpr int kExitRoutesChanged = 3;  // `routes --base`: the change moves routes

struct RoutesOptions {
  std::vector<std::string> paths;       // the manifests (the change's result)
  std::vector<std::string> base_paths;  // non-empty: print only the difference from these
  std::string node;                     // only this node
  std::string load_balancer_class;      // predict as an allocator run with --lb-class
  OutputFormat output = OutputFormat::kText;
};

// Without base paths: the preview on `out`; exit kExitClean, or kExitUnreadable (message
// on `err`). With them: the difference on `out`; kExitClean when no router sees a change,
// kExitRoutesChanged when one does, kExitUnreadable when either set cannot be read.
int RunRoutes(const RoutesOptions& options, std::ostream& out, std::ostream& err);

}  // namespace bgpcomm::cli
