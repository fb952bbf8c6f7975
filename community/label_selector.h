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

// A DNS-1123 subdomain (Kubernetes validation.IsDNS1123Subdomain, the rule for most
// object names): at most 253 characters, dot-separated parts of lowercase
// alphanumerics and '-', each starting and ending with an alphanumeric.
bool IsDnsSubdomain(std::string_view text);

}  // namespace bgpcomm::community
