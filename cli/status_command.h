// `bgpcomm status` (also `kubectl bgpcomm status`): per node, each BGP session with its
// state, uptime and prefixes sent, the advertisements refused and why, and the routes
// `bgpcomm routes` predicts from the stored objects that the speakers do not report
// sending. Reads only the API (a kubeconfig, else the in-cluster configuration).
#pragma once

#include <ostream>
#include <string>

#include "cli/report.h"
#include "community/objects.h"

namespace bgpcomm::cli {

inline constexpr int kExitUnhealthy = 1;  // a session is down or a route is missing

struct StatusOptions {
  // Empty: $KUBECONFIG, else ~/.kube/config, else the in-cluster configuration.
  std::string kubeconfig;
  std::string context;
  std::string namespace_name{community::kDefaultNamespace};
  std::string node;                 // only this node
  std::string load_balancer_class;  // as `bgpcomm routes --lb-class`
  OutputFormat output = OutputFormat::kText;
};

// Exit kExitClean when every session is Established and every predicted route is sent,
// kExitUnhealthy when not, kExitUnreadable when the API cannot be read (message on `err`).
int RunStatus(const StatusOptions& options, std::ostream& out, std::ostream& err);

}  // namespace bgpcomm::cli
