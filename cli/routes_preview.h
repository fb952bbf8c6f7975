// `bgpcomm routes`: what each speaker would announce from a set of manifests, and what a
// change to that set does to the routers. Built from the speaker's own computation
// (speaker::LoadObjects, speaker::ComputeDesiredRoutes) and, for Services that hold no
// address yet, the addresses the allocator would give them.
#pragma once

#include <compare>
#include <cstdint>
#include <expected>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bgpcomm::cli {

// An object of the input set: `Kind namespace/name`.
struct ObjectRef {
  std::string kind;
  std::string namespace_name;
  std::string name;
  auto operator<=>(const ObjectRef&) const = default;
  std::string ToString() const;  // "BGPAdvertisement metallb-system/primary-advert"
};

// One prefix announced to one peer, with the attributes the speaker attaches.
struct PreviewRoute {
  std::string prefix;                          // "203.0.113.10/32"
  std::string family;                          // next-hop family: "ipv4" or "ipv6"
  std::vector<std::string> communities;        // canonical, numeric order
  std::vector<std::string> large_communities;  // "large:A:B:C", numeric order
  std::optional<std::uint32_t> local_pref;     // as the advertisements set it
  bool local_pref_sent = false;                // iBGP session: LOCAL_PREF is on the wire
  // Empty when the session carries the prefix's family; else why the router never gets it.
  std::string not_sent;
  std::vector<std::string> addresses;  // the Service addresses it covers
  bool predicted = false;              // every such address is a predicted allocation
  std::vector<ObjectRef> objects;      // what makes it: Services, pool, advertisements, ...
  bool operator==(const PreviewRoute&) const = default;
};

struct PreviewPeer {
  std::string name;
  std::string namespace_name;
  std::string address;  // spec.peerAddress
  std::int64_t my_asn = 0;
  std::int64_t peer_asn = 0;
  bool ibgp = false;
  std::vector<std::string> families;  // "ipv4", "ipv6" the session carries
  std::vector<PreviewRoute> routes;   // in prefix order
};

struct PreviewNode {
  std::string name;  // "*" when the set holds no Node and --node was not given
  std::vector<PreviewPeer> peers;
};

// A LoadBalancer Service and the addresses it holds or would get.
struct PreviewService {
  ObjectRef service;
  std::vector<std::string> addresses;
  bool predicted = false;  // addresses come from the allocator, not from status
  std::string reason;      // why it has none, or which held address a prediction replaces
};

struct RefusedObject {
  ObjectRef object;
  std::string reason;
};

struct Preview {
  std::vector<PreviewNode> nodes;
  std::vector<PreviewService> services;
  std::vector<RefusedObject> refused;  // advertisements that announce nothing, and why
  // Every object of the set and a fingerprint of its content (for what changed).
  std::map<ObjectRef, std::string> fingerprints;
};

struct PreviewOptions {
  std::string node;  // only this node (a node of that name with no other labels if absent)
  std::string load_balancer_class;  // the allocator's --lb-class (empty: Services without)
};

// Loads `paths` (files or folders, as `bgpcomm lint` reads them) and computes the preview.
// Fails with the first load error when a file cannot be read or parsed.
std::expected<Preview, std::string> BuildPreview(std::span<const std::string> paths,
                                                 const PreviewOptions& options);

// Text for people: one block per node and peer, one line per route.
std::string PreviewText(const Preview& preview);
nlohmann::ordered_json PreviewJson(const Preview& preview);

// One announcement that a change adds, withdraws or alters.
struct RouteChange {
  enum class Kind { kAdded, kWithdrawn, kChanged };
  Kind kind = Kind::kChanged;
  std::string node;
  std::string peer;
  std::optional<PreviewRoute> before;
  std::optional<PreviewRoute> after;
  std::vector<std::string> what;    // "communities -64512:100", "local-pref 100 -> 200", ...
  std::vector<std::string> causes;  // the changed objects behind it
};

struct PreviewDiff {
  std::vector<RouteChange> changes;
  std::vector<RefusedObject> newly_refused;
  std::vector<RefusedObject> no_longer_refused;
  bool empty() const {
    return changes.empty() && newly_refused.empty() && no_longer_refused.empty();
  }
};

// What turning `base` into `head` does to the routers: only routes a router receives count
// (LOCAL_PREF only on iBGP sessions); a route whose address moves (same node, peer and
// Services) is one change.
PreviewDiff DiffPreviews(const Preview& base, const Preview& head);

std::string DiffText(const PreviewDiff& diff);
nlohmann::ordered_json DiffJson(const PreviewDiff& diff);

}  // namespace bgpcomm::cli
