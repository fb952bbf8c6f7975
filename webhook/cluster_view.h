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

  // Answers ServicesHoldingAddresses() from `services` (an informer of core/v1 Services in
  // every namespace, decoding with objectjson::DecodeService) once it has synced, by a LIST
  // before. Call before serving; `services` must outlive the view.
  void CacheServices(const kube::Informer* services) { services_ = services; }

  std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> Namespace(
      std::string_view namespace_name, Freshness freshness) const override;

  // Drops the memoised snapshots; the next cached lookup rebuilds from the cache.
  void InvalidateSnapshots();

  std::expected<std::vector<community::ServiceObject>, std::string> ServicesHoldingAddresses()
      const override;

 private:
  std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> ReadThrough(
      std::string_view namespace_name) const;

  kube::Client& client_;
  const MetallbCache& cache_;
  std::string cached_namespace_;
  const kube::Informer* services_ = nullptr;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const NamespaceSnapshot> snapshot_;  // of cached_namespace_
};

}  // namespace bgpcomm::webhook
