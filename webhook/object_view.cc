#include "webhook/object_view.h"

namespace bgpcomm::webhook {

std::shared_ptr<const NamespaceSnapshot> NamespaceSnapshot::Make(
    community::NamespaceObjects objects) {
  auto snapshot = std::make_shared<NamespaceSnapshot>();
  snapshot->aliases = community::AliasTable::Build(objects.communities);
  snapshot->objects = std::move(objects);
  return snapshot;
}

community::NamespaceView NamespaceSnapshot::Objects() const {
  if (!shared) return objects;
  return {objects.namespace_name, shared->communities, shared->advertisements, shared->pools,
          shared->peers, objects};
}

community::NamespaceObjects NamespaceSnapshot::Materialize() const {
  if (!shared) return objects;
  community::NamespaceObjects out = objects;
  community::NamespaceView view = Objects();
  out.communities.assign(view.communities.begin(), view.communities.end());
  out.advertisements.assign(view.advertisements.begin(), view.advertisements.end());
  out.pools.assign(view.pools.begin(), view.pools.end());
  out.peers.assign(view.peers.begin(), view.peers.end());
  return out;
}

}  // namespace bgpcomm::webhook
