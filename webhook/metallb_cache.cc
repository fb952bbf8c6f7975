#include "webhook/metallb_cache.h"

#include "objectjson/metallb.h"

namespace bgpcomm::webhook {
namespace {

// Stored objects were admitted: decoding problems are the validating webhook's to report.
template <typename Decode>
InformerOptions DecodingWith(InformerOptions options, Decode decode) {
  options.reflector.decode = kube::DecodeAs([decode](const rapidjson::Value& object) {
    community::Diagnostics ignored;
    return decode(object, ignored);
  });
  return options;
}

}  // namespace

MetallbCache::MetallbCache(kube::Client& client, std::string ns, InformerOptions options)
    : communities_(std::make_unique<Informer>(
          client, objectjson::kCommunities, ns,
          DecodingWith(options, objectjson::DecodeCommunity))),
      advertisements_(std::make_unique<Informer>(
          client, objectjson::kBGPAdvertisements, ns,
          DecodingWith(options, objectjson::DecodeAdvertisement))),
      pools_(std::make_unique<Informer>(client, objectjson::kIPAddressPools, ns,
                                        DecodingWith(options, objectjson::DecodePool))),
      peers_(std::make_unique<Informer>(client, objectjson::kBGPPeers, ns,
                                        DecodingWith(options, objectjson::DecodePeer))) {}

std::vector<Informer*> MetallbCache::All() const {
  return {communities_.get(), advertisements_.get(), pools_.get(), peers_.get()};
}

void MetallbCache::OnChange(ChangeHandler handler) {
  OnEvent([handler = std::move(handler)](const Resource& resource, const ObjectPtr&,
                                         const ObjectPtr&) { handler(resource); });
}

void MetallbCache::OnEvent(EventHandler handler) {
  auto shared = std::make_shared<EventHandler>(std::move(handler));
  for (Informer* informer : All()) {
    const Resource& resource = informer->resource();
    informer->AddHandlers({
        .on_add = [shared, &resource](const ObjectPtr& added) {
          (*shared)(resource, nullptr, added);
        },
        .on_update = [shared, &resource](const ObjectPtr& before,
                                         const ObjectPtr& after) {
          (*shared)(resource, before, after);
        },
        .on_delete = [shared, &resource](const ObjectPtr& deleted) {
          (*shared)(resource, deleted, nullptr);
        },
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

}  // namespace bgpcomm::webhook
