#include "webhook/cluster_view.h"

#include <rapidjson/document.h>

#include "objectjson/metallb.h"

namespace bgpcomm::webhook {

using objectjson::DecodeAdvertisement;
using objectjson::DecodeCommunity;
using objectjson::DecodePeer;
using objectjson::DecodePool;

namespace {

template <typename T, typename Decode>
void DecodeAll(const std::vector<kube::ObjectPtr>& objects, Decode decode, std::vector<T>& out) {
  for (const auto& object : objects) {
    rapidjson::Document document;
    document.Parse(object->json.data(), object->json.size());
    if (document.HasParseError() || !document.IsObject()) continue;
    community::Diagnostics ignored;
    out.push_back(decode(document, ignored));
  }
}

std::vector<kube::ObjectPtr> ToObjects(const std::vector<nlohmann::json>& items) {
  std::vector<kube::ObjectPtr> objects;
  objects.reserve(items.size());
  for (const auto& item : items) {
    objects.push_back(std::make_shared<const kube::Object>(kube::ToObject(item)));
  }
  return objects;
}

}  // namespace

community::NamespaceObjects DecodeStored(std::string_view namespace_name,
                                         const kube::MetallbObjects& objects) {
  community::NamespaceObjects result{.namespace_name = std::string(namespace_name)};
  DecodeAll(objects.communities, DecodeCommunity, result.communities);
  DecodeAll(objects.advertisements, DecodeAdvertisement, result.advertisements);
  DecodeAll(objects.pools, DecodePool, result.pools);
  DecodeAll(objects.peers, DecodePeer, result.peers);
  return result;
}

ClusterView::ClusterView(kube::Client& client, const kube::MetallbCache& cache,
                         std::string cached_namespace)
    : client_(client), cache_(cache), cached_namespace_(std::move(cached_namespace)) {}

void ClusterView::InvalidateSnapshots() {
  std::lock_guard lock(mutex_);
  snapshot_.reset();
}

std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> ClusterView::Namespace(
    std::string_view namespace_name, Freshness freshness) const {
  if (freshness == Freshness::kReadThrough || namespace_name != cached_namespace_) {
    return ReadThrough(namespace_name);
  }
  if (!cache_.HasSynced()) return std::unexpected("the cache has not synced yet");
  std::lock_guard lock(mutex_);
  if (!snapshot_) {
    snapshot_ =
        NamespaceSnapshot::Make(DecodeStored(namespace_name, cache_.Objects(namespace_name)));
  }
  return snapshot_;
}

std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> ClusterView::ReadThrough(
    std::string_view namespace_name) const {
  kube::MetallbObjects objects;
  const std::pair<const kube::Resource*, std::vector<kube::ObjectPtr>*> lists[] = {
      {&kube::resources::kCommunities, &objects.communities},
      {&kube::resources::kBGPAdvertisements, &objects.advertisements},
      {&kube::resources::kIPAddressPools, &objects.pools},
      {&kube::resources::kBGPPeers, &objects.peers},
  };
  for (const auto& [resource, out] : lists) {
    auto listed = client_.List(*resource, namespace_name);
    if (!listed) return std::unexpected(listed.error().ToString());
    *out = ToObjects(listed->items);
  }
  return NamespaceSnapshot::Make(DecodeStored(namespace_name, objects));
}

}  // namespace bgpcomm::webhook
