// Informers for the four metallb.io resources bgpcomm judges, in one namespace, with one
// synced signal and a per-namespace snapshot for building the webhook's view. Each object
// is decoded once, when its event arrives, into its community struct
// (`object->As<community::Advertisement>()`, ...).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "community/objects.h"
#include "kube/informer.h"
#include "objectjson/metallb_resources.h"

namespace bgpcomm::webhook {

using kube::Duration;
using kube::Informer;
using kube::InformerOptions;
using kube::ObjectPtr;
using kube::Resource;

// The stored objects of one namespace, each list ordered by name.
struct MetallbObjects {
  std::vector<ObjectPtr> communities;
  std::vector<ObjectPtr> advertisements;
  std::vector<ObjectPtr> pools;
  std::vector<ObjectPtr> peers;
};

class MetallbCache {
 public:
  // Watches Community, BGPAdvertisement, IPAddressPool (v1beta1) and BGPPeer (v1beta2)
  // in `ns` (empty: all namespaces). `client` must outlive the cache.
  MetallbCache(kube::Client& client, std::string ns, InformerOptions options = {});

  // Called after any of the four stores changed, on that informer's thread.
  using ChangeHandler = std::function<void(const Resource& resource)>;
  // Adds a change handler; call before Start().
  void OnChange(ChangeHandler handler);
  // Called after one object of any of the four stores changed, on that informer's thread:
  // `before` is null for an addition, `after` null for a deletion.
  using EventHandler = std::function<void(const Resource& resource, const ObjectPtr& before,
                                          const ObjectPtr& after)>;
  // Adds an event handler; call before Start().
  void OnEvent(EventHandler handler);

  void Start();
  void Stop();
  // True once all four informers have listed.
  bool HasSynced() const;
  // Waits up to `timeout` for HasSynced().
  bool WaitForSync(Duration timeout) const;

  // The stored objects of namespace `ns`.
  MetallbObjects Objects(std::string_view ns) const;

  Informer& communities() { return *communities_; }
  Informer& advertisements() { return *advertisements_; }
  Informer& pools() { return *pools_; }
  Informer& peers() { return *peers_; }
  const Informer& advertisements() const { return *advertisements_; }

 private:
  std::vector<Informer*> All() const;

  std::unique_ptr<Informer> communities_;
  std::unique_ptr<Informer> advertisements_;
  std::unique_ptr<Informer> pools_;
  std::unique_ptr<Informer> peers_;
};

}  // namespace bgpcomm::webhook
