// `bgpcomm status`, the pure part: the routes `bgpcomm routes` predicts from the stored
// objects (a Preview per node) beside what the speakers report (their BGPSessionStates,
// ConfigurationStates and, when written, ServiceBGPStatuses), judged per node and session.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/routes_preview.h"

namespace bgpcomm::cli {

struct StatusSession {
  std::string bgp_peer;  // BGPPeer name
  std::string peer;      // address as the speaker names it
  std::string state;     // bgpStatus; "Unreported" when the speaker wrote no object
  std::string bfd;
  std::optional<std::int64_t> uptime_seconds;  // Established: now - since
  std::uint64_t prefixes_sent = 0;
  std::string last_error;
  std::uint64_t unanswered_connects = 0;
  std::vector<std::string> predicted;  // prefixes `bgpcomm routes` predicts for it
  std::vector<std::string> missing;    // predicted, not reported sent
  std::vector<std::string> unexpected;  // reported sent, not predicted
  // The speaker listed no prefixes (too many): only the digest and count were compared.
  bool compared_by_digest = false;
  bool digest_differs = false;
  bool down() const { return state != "Established"; }
};

struct StatusNode {
  std::string name;
  std::vector<StatusSession> sessions;
  std::string configuration;  // the speaker's ConfigurationState result ("" none)
  std::string configuration_errors;
};

struct StatusReport {
  std::vector<StatusNode> nodes;
  std::vector<RefusedObject> refused;  // advertisements the prediction refuses, and why
  std::string allocator_configuration;  // "" when the allocator wrote none
  std::string allocator_errors;
  int sessions_down = 0;
  int routes_missing = 0;  // missing prefixes, plus sessions whose digest differs
  bool healthy() const { return sessions_down == 0 && routes_missing == 0; }
};

// `predictions` holds one Preview per node (computed with PreviewOptions::node);
// `sessions`, `configurations` are the objects as the API returns them (JSON).
StatusReport BuildStatusReport(const std::vector<Preview>& predictions,
                               const std::vector<nlohmann::json>& sessions,
                               const std::vector<nlohmann::json>& configurations,
                               std::chrono::system_clock::time_point now);

std::string StatusText(const StatusReport& report);
nlohmann::ordered_json StatusJson(const StatusReport& report);

}  // namespace bgpcomm::cli
