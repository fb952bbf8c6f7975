// Kubernetes label selectors (metav1.LabelSelector) as MetalLB uses them.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "community/diagnostic.h"
#include "community/objects.h"

namespace bgpcomm::community {

// True when `labels` satisfy `selector`. An empty selector matches everything.
// A selector with an unknown operator matches nothing.
bool Matches(const LabelSelector& selector, const std::map<std::string, std::string>& labels);

// Reports syntax problems (unknown operator, values with Exists, missing values with
// In/NotIn) under `field`, e.g. "spec.nodeSelectors[0]".
void ValidateSelector(const LabelSelector& selector, std::string_view field, Diagnostics& out);

}  // namespace bgpcomm::community
