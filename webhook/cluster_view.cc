#include "webhook/cluster_view.h"

#include <rapidjson/document.h>

#include "objectjson/metallb.h"

namespace bgpcomm::webhook {

using objectjson::DecodeAdvertisement;
using objectjson::DecodeCommunity;
using objectjson::DecodePeer;
using objectjson::DecodePool;

namespace {

template <typename T>
void Collect(const std::vector<kube::ObjectPtr>& objects, std::vector<T>& out) {
  out.reserve(objects.size());
  for (const auto& object : objects) {
    if (auto decoded = object->As<T>()) out.push_back(*decoded);
  }
}

}  // namespace

community::NamespaceObjects DecodeStored(std::string_view namespace_name,
                                         const MetallbObjects& objects) {
  community::NamespaceObjects result{.namespace_name = std::string(namespace_name)};
  Collect(objects.communities, result.communities);
  Collect(objects.advertisements, result.advertisements);
  Collect(objects.pools, result.pools);
  Collect(objects.peers, result.peers);
  return result;
}

ClusterView::ClusterView(kube::Client& client, const MetallbCache& cache,
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
  community::NamespaceObjects objects{.namespace_name = std::string(namespace_name)};
  community::Diagnostics ignored;
  auto list = [&](const kube::Resource& resource, auto decode, auto& out) {
    return client_.List(resource, namespace_name, {}, [&](const rapidjson::Value& item) {
      out.push_back(decode(item, ignored));
    });
  };
  for (auto listed : {list(objectjson::kCommunities, DecodeCommunity, objects.communities),
                      list(objectjson::kBGPAdvertisements, DecodeAdvertisement,
                           objects.advertisements),
                      list(objectjson::kIPAddressPools, DecodePool, objects.pools),
                      list(objectjson::kBGPPeers, DecodePeer, objects.peers)}) {
    if (!listed) return std::unexpected(listed.error().ToString());
  }
  return NamespaceSnapshot::Make(std::move(objects));
}

std::expected<std::vector<community::ServiceObject>, std::string>
ClusterView::ServicesHoldingAddresses() const {
  std::vector<community::ServiceObject> out;
  auto keep = [&](const community::ServiceObject& s) {
    if (s.type == "LoadBalancer" && !s.status.load_balancer.ingress.empty()) out.push_back(s);
  };
  if (services_ != nullptr && services_->HasSynced()) {
    for (const kube::ObjectPtr& object : services_->List()) {
      if (auto decoded = object->As<community::ServiceObject>()) keep(*decoded);
    }
    return out;
  }
  community::Diagnostics ignored;
  auto listed =
      client_.List(kube::resources::kServices, "", {}, [&](const rapidjson::Value& item) {
        keep(objectjson::DecodeService(item, ignored));
      });
  if (!listed) return std::unexpected(listed.error().ToString());
  return out;
}

}  // namespace bgpcomm::webhook
