// The Kubernetes mode's inputs: informers for BGPPeer, BGPAdvertisement and IPAddressPool
// (in the metallb namespace), Services and EndpointSlices (every namespace) and this node's
// Node; each Secret a BGPPeer's passwordSecret names, watched by name (read by GET until
// that watch has listed, e.g. when RBAC forbids it): the speaker needs no right to the
// namespace's other Secrets. Any change, after a short settle delay that
// coalesces bursts, becomes one ObjectBatch (only the objects that changed, or every one
// on a resync) given to IncrementalRoutes and Speaker::ApplyIncremental() on the
// io_context thread. Refused advertisements, and BGPPeers of this node that get no session
// (vrf, interface, ...), get a Kubernetes Event once per refusal.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "kube/client.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "speaker/incremental_routes.h"
#include "speaker/password_keeper.h"
#include "speaker/speaker.h"

namespace bgpcomm::speaker {

// The informers whose events name the object that changed (peers, BFD profiles, the Node
// and Secrets are read whole on each apply: kOther).
enum class ChangedKind { kService, kEndpointSlice, kPool, kAdvertisement, kOther };
// (kind, namespace, name)
using ChangedObject = std::tuple<ChangedKind, std::string, std::string>;

// What one apply hands to the io_context thread: the changed objects as stored now
// (null: deleted), the peers with their passwords, the BFD profiles, the Node.
struct ObjectBatch {
  struct Changed {
    ChangedKind kind;
    std::string namespace_name;
    std::string name;
    kube::ObjectPtr object;
  };
  bool full = false;  // every object, into a new IncrementalRoutes
  std::vector<Changed> objects;
  std::vector<community::Peer> peers;
  std::vector<community::BfdProfile> bfd_profiles;  // read whole each time, as the peers
  Node node;
  // Gives the batch to `routes` and commits it.
  void ApplyTo(IncrementalRoutes& routes) const;
};

struct KubeSourceOptions {
  std::string namespace_name{community::kDefaultNamespace};
  std::string node_name;
  // Quiet time after a change before the objects are applied (bursts become one apply).
  std::chrono::milliseconds settle{20};
  // How long a passwordSecret read by GET is reused before it is read again (the watch
  // makes a rotation land at once; this bounds it when the watch is not available).
  std::chrono::seconds secret_refresh{30};
  // How long the last good password outlives its Secret (deleted, or its password key
  // gone); any other failed read keeps it as long as it lasts (speaker/password_keeper.h).
  std::chrono::seconds secret_grace{300};
  kube::InformerOptions informer;
};

// Event reasons (type Warning) on a BGPAdvertisement the speaker does not announce, by
// community::RefusalKind: ResolutionMissing, ResolutionUnreadable, ResolutionStale,
// CommunitiesUnresolved, AdvertisementInvalid.
std::string RefusalEventReason(community::RefusalKind kind);

// Event reason (type Warning) on a BGPPeer of this node that gets no session.
inline constexpr const char* kPeerRefusedReason = "PeerRefused";

class KubeSource {
 public:
  // `client`, `events`, `speaker` and `io` must outlive the source.
  KubeSource(kube::Client& client, kube::EventRecorder& events, Speaker& speaker,
             asio::io_context& io, KubeSourceOptions options);
  ~KubeSource();
  KubeSource(const KubeSource&) = delete;
  KubeSource& operator=(const KubeSource&) = delete;

  // Starts the informers and the thread that applies changes.
  void Start();
  // Stops both; the speaker keeps the routes last applied.
  void Stop();
  // True once every informer has listed.
  bool HasSynced() const;

 private:
  // The password from a passwordSecret as read now (watch store, else GET), without the
  // last-good fallback.
  PasswordRead ReadSecretPassword(const std::string& secret_name);

  void MarkDirty();
  void MarkChanged(ChangedKind kind, const kube::Object& object);
  void Run(std::stop_token stop);
  // The BGPPeers with their passwordSecrets read; a peer whose Secret gives no password
  // is left out (logged).
  std::vector<community::Peer> Peers();
  // The batch of `changed` objects (every object when `full`).
  ObjectBatch Batch(const std::set<ChangedObject>& changed, bool full);
  // The password of `peer` from its passwordSecret (cached); an error when unusable.
  std::expected<std::string, std::string> SecretPassword(const std::string& secret_name);
  void RecordRefusals(const std::vector<RefusedAdvertisement>& refused);
  void RecordPeerRefusals(const std::vector<RefusedPeer>& refused);

  kube::Client& client_;
  kube::EventRecorder& events_;
  Speaker& speaker_;
  asio::io_context& io_;
  KubeSourceOptions options_;
  std::vector<std::unique_ptr<kube::Informer>> informers_;
  kube::Informer* peers_ = nullptr;
  kube::Informer* bfd_profiles_ = nullptr;
  kube::Informer* advertisements_ = nullptr;
  kube::Informer* pools_ = nullptr;
  kube::Informer* services_ = nullptr;
  kube::Informer* slices_ = nullptr;
  kube::Informer* nodes_ = nullptr;
  // Not among informers_: the objects are applied without them (GET is the fallback
  // until one has listed, e.g. when RBAC does not grant the name). Worker thread only.
  kube::InformerOptions secret_options_;
  std::map<std::string, std::unique_ptr<kube::Informer>> secret_informers_;

  std::mutex mu_;
  std::condition_variable_any wake_;
  bool dirty_ = true;
  bool resync_ = true;
  std::set<ChangedObject> changed_;

  // Worker thread only.
  // passwordSecrets: last good passwords, read backoff, the grace of a deleted Secret.
  PasswordKeeper passwords_;
  // namespace/name -> "resourceVersion reason" of the refusal last recorded as an Event.
  std::map<std::string, std::string> recorded_;
  // BGPPeer name -> "resourceVersion error" of the refusal last recorded as an Event.
  std::map<std::string, std::string> recorded_peers_;
  // Created by the worker on a resync, then used on the io_context thread only.
  std::shared_ptr<IncrementalRoutes> routes_;
  std::jthread worker_;
};

}  // namespace bgpcomm::speaker
