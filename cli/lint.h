// `bgpcomm lint`: the webhook's rules applied offline to a set of manifests.
#pragma once

#include <ostream>

#include "cli/options.h"

namespace bgpcomm::cli {

// Loads `options.paths` and judges all objects as one set. Findings go to `out` (text lines
// or one JSON object); in text mode unreadable input is reported on `err`. Returns
// kExitClean, kExitProblems (any error) or kExitUnreadable.
int RunLint(const CheckOptions& options, std::ostream& out, std::ostream& err);

}  // namespace bgpcomm::cli
