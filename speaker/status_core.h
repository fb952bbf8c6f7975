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

#include "speaker/desired_routes.h"

namespace bgpcomm::speaker::status {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

// Prefixes listed in a BGPSessionState (more: only their count and digest).
inline constexpr std::size_t kListedPrefixes = 64;

// FNV-1a 64 of the sorted, de-duplicated prefixes, one per line ("203.0.113.10/32\n"), as
// 16 lowercase hex digits. The speaker and `bgpcomm status` both call it.
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
  std::vector<std::string> prefixes;  // what the peer holds from us, sorted
  std::string last_error;
  std::uint64_t unanswered_connects = 0;
  bool operator==(const SessionStatus&) const = default;
};

// The status object: prefixes listed only up to kListedPrefixes, digest always.
nlohmann::json SessionStatusJson(const SessionStatus& status);

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

// A speaker's configuration result after an apply: Invalid when it refuses an
// advertisement (fail closed) or a BGPPeer, each named with its reason in errorSummary
// (sorted, "; " between them) and in the conditions AdvertisementsAnnounced and
// PeersAccepted. A condition keeps `previous`'s lastTransitionTime while its status holds.
ConfigurationStatus SpeakerConfiguration(const std::vector<RefusedAdvertisement>& refused,
                                         const std::vector<std::string>& refused_peers,
                                         const ConfigurationStatus& previous,
                                         const std::string& now);

// The allocator's configuration result: Invalid with `errors` (the pools it cannot use),
// condition PoolsUsable.
ConfigurationStatus AllocatorConfiguration(const std::vector<std::string>& errors,
                                           const ConfigurationStatus& previous,
                                           const std::string& now);

// A Service this node announces, and to which BGPPeers (sorted names).
struct ServiceAnnouncement {
  std::string namespace_name;
  std::string name;
  std::vector<std::string> peers;
  bool operator==(const ServiceAnnouncement&) const = default;
};

// The LoadBalancer Services of `objects` with an address covered by a route of `desired`
// (per peer), in namespace/name order.
std::vector<ServiceAnnouncement> AnnouncedServices(const SpeakerObjects& objects,
                                                   const DesiredRoutes& desired);

// ServiceBGPStatus's status for one Service on `node` (MetalLB 0.16's fields).
nlohmann::json ServiceStatusJson(const std::string& node, const ServiceAnnouncement& service);

// Per object (by key): what it should hold and what was last written, writing the latest
// state at most once per interval. Not thread-safe (the writer serialises calls).
class StatusCoalescer {
 public:
  struct Write {
    std::string key;
    std::optional<std::string> body;  // nullopt: delete the object
  };

  // `Set` with a shorter interval makes its change due sooner (e.g. a session state
  // change, 5 s) than a longer one (a prefix count, 30 s); the first write of an object
  // is due at once.
  void Set(const std::string& key, std::string body, Duration interval, TimePoint now);
  // The object should not exist (due as a Set would be). An object never written and not
  // known to exist is simply forgotten.
  void Remove(const std::string& key, Duration interval, TimePoint now);
  // The object exists in the API with unknown content (found at start): written again by
  // the next Set, deleted by a Remove.
  void Existing(const std::string& key);
  // The writes due at `now`, marked in flight (each key at most once until Done).
  std::vector<Write> Due(TimePoint now);
  // The outcome of a write Due returned. A failed one is due again after its interval.
  void Done(const std::string& key, bool ok);
  // When the next write falls due; nullopt: nothing pending.
  std::optional<TimePoint> NextDue() const;
  // Keys of the objects that exist or are to be written.
  std::vector<std::string> Keys() const;
  std::size_t pending() const;

 private:
  struct Entry {
    std::optional<std::string> desired;  // nullopt: should not exist
    std::optional<std::string> written;  // nullopt: not known to exist
    bool exists_unknown = false;         // exists with unknown content
    std::optional<TimePoint> last_attempt;
    std::optional<Duration> interval;  // the shortest asked since the last write
    bool in_flight = false;
    std::optional<std::string> sending;
  };
  bool Pending(const Entry& e) const;
  std::optional<TimePoint> DueAt(const Entry& e) const;
  std::map<std::string, Entry> entries_;
};

}  // namespace bgpcomm::speaker::status
