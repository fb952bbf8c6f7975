// What the speaker publishes in the API about itself, and when (pure: no I/O, no clock of
// its own; times come in as arguments). The Kubernetes writer (status_writer.h) is a thin
// adapter over it.
//
//   BGPSessionState (bgpcomm.io/v1alpha1)  one per node and BGPPeer
//   ConfigurationState (metallb.io/v1beta1) one per speaker: Valid, or Invalid with the
//                                           advertisements and peers it refuses
//   ServiceBGPStatus (metallb.io/v1beta1)   MetalLB's exact view, one per node and Service
//                                           announced (only when asked: it is
//                                           O(nodes x Services))
//
// Writes are coalesced per object (StatusCoalescer): the latest state, at most once per
// interval, so a flapping session cannot flood the API server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "objectjson/status.h"
#include "speaker/desired_routes.h"

namespace bgpcomm::speaker::status {

using objectjson::Condition;
using objectjson::ConfigurationStatus;

// Prefixes listed in a BGPSessionState (more: only their count and digest).
inline constexpr std::size_t kListedPrefixes = 64;

// The digest of a set of prefixes, kept up to date one prefix at a time, so that a change
// of k prefixes costs O(k) whatever the size of the set: the sum (mod 2^64) over the
// distinct prefixes of a 64-bit hash of each ("203.0.113.10/32\n": FNV-1a 64, then the
// SplitMix64 finalizer), printed as 16 lowercase hex digits. Order does not matter. Adding
// a prefix already in the set, or removing one not in it, is the caller's error.
class PrefixesDigestSum {
 public:
  void Add(std::string_view prefix);
  void Remove(std::string_view prefix);
  std::string Hex() const;
  bool operator==(const PrefixesDigestSum&) const = default;

 private:
  std::uint64_t sum_ = 0;
};

// The digest of `prefixes` (duplicates count once). The speaker and `bgpcomm status` both
// call it.
std::string PrefixesDigest(std::vector<std::string> prefixes);

// "NODE-PEER" made a valid object name (DNS-1123 subdomain: lowercase, [a-z0-9.-], at most
// 253 characters): other characters become '-', and a name too long is cut and ends with
// a digest of the whole.
std::string ObjectName(std::string_view first, std::string_view second);

// frr-k8s's `peer` of a session: the address, with ":PORT" when the port is not 179.
std::string PeerLabel(const std::string& address, std::uint16_t port);

// One session as its BGPSessionState's status carries it.
struct SessionStatus {
  std::string node;
  std::string peer;      // PeerLabel
  std::string bgp_peer;  // NAMESPACE/NAME of the BGPPeer
  std::string bgp_status = "Idle";
  std::string bfd_status = "N/A";
  std::string since;  // RFC 3339, when bgp_status last changed
  std::uint64_t prefixes_sent = 0;
  PrefixesDigestSum prefixes_digest;  // of what the peer holds from us
  // What the peer holds from us, sorted, when that is at most kListedPrefixes; else empty.
  std::vector<std::string> prefixes;
  std::string last_error;
  std::uint64_t unanswered_connects = 0;
  bool operator==(const SessionStatus&) const = default;
};

// The status object: prefixes listed only up to kListedPrefixes, digest always.
nlohmann::json SessionStatusJson(const SessionStatus& status);

// A speaker's configuration result after an apply: Invalid when it refuses an
// advertisement (fail closed) or a BGPPeer, each named with its reason in errorSummary
// (sorted, "; " between them) and in the conditions AdvertisementsAnnounced and
// PeersAccepted. A condition keeps `previous`'s lastTransitionTime while its status holds.
ConfigurationStatus SpeakerConfiguration(const std::vector<RefusedAdvertisement>& refused,
                                         const std::vector<std::string>& refused_peers,
                                         const ConfigurationStatus& previous,
                                         const std::string& now);

// A Service this node announces and the rule that finds them: speaker/desired_routes.h.
using speaker::AnnouncedServices;
using speaker::ServiceAnnouncement;

// ServiceBGPStatus's status for one Service on `node` (MetalLB 0.16's fields).
nlohmann::json ServiceStatusJson(const std::string& node, const ServiceAnnouncement& service);

}  // namespace bgpcomm::speaker::status
