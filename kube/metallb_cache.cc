#include "kube/metallb_cache.h"

namespace bgpcomm::kube {

MetallbCache::MetallbCache(Client& client, std::string ns, InformerOptions options)
    : communities_(std::make_unique<Informer>(client, resources::kCommunities, ns, options)),
      advertisements_(
          std::make_unique<Informer>(client, resources::kBGPAdvertisements, ns, options)),
      pools_(std::make_unique<Informer>(client, resources::kIPAddressPools, ns, options)),
      peers_(std::make_unique<Informer>(client, resources::kBGPPeers, ns, options)) {}

std::vector<Informer*> MetallbCache::All() const {
  return {communities_.get(), advertisements_.get(), pools_.get(), peers_.get()};
}

void MetallbCache::OnChange(ChangeHandler handler) {
  auto shared = std::make_shared<ChangeHandler>(std::move(handler));
  for (Informer* informer : All()) {
    const Resource& resource = informer->resource();
    informer->AddHandlers({
        .on_add = [shared, &resource](const ObjectPtr&) { (*shared)(resource); },
        .on_update = [shared, &resource](const ObjectPtr&,
                                         const ObjectPtr&) { (*shared)(resource); },
        .on_delete = [shared, &resource](const ObjectPtr&) { (*shared)(resource); },
    });
  }
}

void MetallbCache::Start() {
  for (Informer* informer : All()) informer->Start();
}

void MetallbCache::Stop() {
  for (Informer* informer : All()) informer->Stop();
}

bool MetallbCache::HasSynced() const {
  for (Informer* informer : All())
    if (!informer->HasSynced()) return false;
  return true;
}

bool MetallbCache::WaitForSync(Duration timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (Informer* informer : All()) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (!informer->WaitForSync(std::max<Duration>(left, Duration::zero()))) return false;
  }
  return true;
}

MetallbObjects MetallbCache::Objects(std::string_view ns) const {
  return {communities_->ListNamespace(ns), advertisements_->ListNamespace(ns),
          pools_->ListNamespace(ns), peers_->ListNamespace(ns)};
}

}  // namespace bgpcomm::kube
