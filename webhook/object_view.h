// What the webhook knows of the cluster: the stored objects of a namespace.
#pragma once

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "community/alias_table.h"
#include "community/objects.h"

namespace bgpcomm::webhook {

// An immutable picture of one namespace, shared by every request that reads it.
struct NamespaceSnapshot {
  community::NamespaceObjects objects;
  community::AliasTable aliases;  // AliasTable::Build(objects.communities)
  // True for the empty stand-in judged when the API cannot be read: it finds only the
  // problems that need no lookup, and a rule that would look something up must not run.
  bool stand_in = false;

  static std::shared_ptr<const NamespaceSnapshot> Make(community::NamespaceObjects objects);
};

enum class Freshness {
  kCached,       // the informer cache; may lag the API by a watch event
  kReadThrough,  // read from the API now: required before a denial that rests on a lookup
};

class ObjectView {
 public:
  virtual ~ObjectView() = default;
  // The objects of `namespace_name`, or a message saying why they cannot be had
  // (e.g. the API server is unreachable).
  virtual std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> Namespace(
      std::string_view namespace_name, Freshness freshness) const = 0;
  // The LoadBalancer Services of every namespace that hold an address
  // (status.loadBalancer.ingress), for warnings only; a message when they cannot be had.
  virtual std::expected<std::vector<community::ServiceObject>, std::string>
  ServicesHoldingAddresses() const {
    return std::unexpected("this view does not read Services");
  }
};

}  // namespace bgpcomm::webhook
