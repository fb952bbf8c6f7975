// The status kinds bgpcomm writes: their REST resources, and ConfigurationState's status
// (MetalLB 0.16's: result Valid/Invalid/Unknown, errorSummary, metav1.Conditions), shared
// by the speaker, the allocator and `bgpcomm status`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/resource.h"

namespace bgpcomm::objectjson {

inline const kube::Resource kServiceBGPStatuses{"metallb.io", "v1beta1", "servicebgpstatuses",
                                                "ServiceBGPStatus"};
inline const kube::Resource kConfigurationStates{"metallb.io", "v1beta1", "configurationstates",
                                                 "ConfigurationState"};
inline const kube::Resource kBGPSessionStates{"bgpcomm.io", "v1alpha1", "bgpsessionstates",
                                              "BGPSessionState"};

// Labels of the status objects (MetalLB's for ServiceBGPStatus; bgpcomm's own for the rest).
inline constexpr char kNodeLabel[] = "metallb.io/node";
inline constexpr char kServiceNameLabel[] = "metallb.io/service-name";
inline constexpr char kServiceNamespaceLabel[] = "metallb.io/service-namespace";
inline constexpr char kSessionNodeLabel[] = "bgpcomm.io/node";
inline constexpr char kSessionPeerLabel[] = "bgpcomm.io/bgppeer";
inline constexpr char kComponentLabel[] = "bgpcomm.io/component";

// metav1.Condition.
struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  std::string last_transition;  // RFC 3339
  bool operator==(const Condition&) const = default;
};

struct ConfigurationStatus {
  std::string result = "Unknown";  // Valid, Invalid, Unknown
  std::string error_summary;
  std::vector<Condition> conditions;
  bool operator==(const ConfigurationStatus&) const = default;
};

nlohmann::json ConfigurationStatusJson(const ConfigurationStatus& status);

// `next` with `previous`'s lastTransitionTime for a condition of the same type and status,
// else `now`.
Condition KeepTransition(Condition next, const ConfigurationStatus& previous,
                         const std::string& now);

// The allocator's configuration result: Invalid with `errors` (the pools it cannot use),
// condition PoolsUsable.
ConfigurationStatus AllocatorConfiguration(const std::vector<std::string>& errors,
                                           const ConfigurationStatus& previous,
                                           const std::string& now);

}  // namespace bgpcomm::objectjson
