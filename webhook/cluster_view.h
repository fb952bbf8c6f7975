// The webhook's view of the cluster: the informer cache for cached lookups and LISTs
// against the API for read-through ones.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "kube/client.h"
#include "webhook/metallb_cache.h"
#include "webhook/object_view.h"

namespace bgpcomm::webhook {

// The decoded objects of the cache, ordered by name.
community::NamespaceObjects DecodeStored(std::string_view namespace_name,
                                         const MetallbObjects& objects);

class ClusterView : public ObjectView {
 public:
  // `cache` watches `cached_namespace`; other namespaces are always read through.
  // Both must outlive the view. Register InvalidateSnapshots() as a cache change handler.
  ClusterView(kube::Client& client, const MetallbCache& cache, std::string cached_namespace);

  std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> Namespace(
      std::string_view namespace_name, Freshness freshness) const override;

  // Drops the memoised snapshots; the next cached lookup rebuilds from the cache.
  void InvalidateSnapshots();

 private:
  std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> ReadThrough(
      std::string_view namespace_name) const;

  kube::Client& client_;
  const MetallbCache& cache_;
  std::string cached_namespace_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const NamespaceSnapshot> snapshot_;  // of cached_namespace_
};

}  // namespace bgpcomm::webhook
