#include "webhook/object_view.h"

namespace bgpcomm::webhook {

std::shared_ptr<const NamespaceSnapshot> NamespaceSnapshot::Make(
    community::NamespaceObjects objects) {
  auto snapshot = std::make_shared<NamespaceSnapshot>();
  snapshot->aliases = community::AliasTable::Build(objects.communities);
  snapshot->objects = std::move(objects);
  return snapshot;
}

}  // namespace bgpcomm::webhook
