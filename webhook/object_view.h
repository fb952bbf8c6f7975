// What the webhook knows of the cluster: the stored objects of a namespace.
#pragma once

#include <exception>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "community/admission.h"
#include "community/alias_table.h"
#include "community/objects.h"

namespace bgpcomm::webhook {

// The incremental view's objects of the four cached kinds: pointers to the decoded
// objects, in name order (a shift moves pointers, a memmove), and the owners that keep
// them alive while this snapshot refers to them (per object, so an event adds or drops
// one).
struct SharedObjects {
  std::vector<const community::CommunityObject*> communities;
  std::vector<const community::Advertisement*> advertisements;
  std::vector<const community::AddressPool*> pools;
  std::vector<const community::Peer*> peers;
  std::unordered_map<const void*, std::shared_ptr<const void>> owners;
};

// An immutable picture of one namespace, shared by every request that reads it.
struct NamespaceSnapshot {
  // Read-through and stand-in snapshots own their objects here; the cached view's keep
  // only the fields other than the four kinds here, and those in `shared`.
  community::NamespaceObjects objects;
  std::optional<SharedObjects> shared;
  community::AliasTable aliases;  // AliasTable::Build(Objects().communities)
  // True for the empty stand-in judged when the API cannot be read: it finds only the
  // problems that need no lookup, and a rule that would look something up must not run.
  bool stand_in = false;

  // What a decision reads.
  community::NamespaceView Objects() const;
  community::NamespaceContext Context() const { return {Objects(), aliases}; }
  // A copy of the objects as plain vectors (tests, comparisons).
  community::NamespaceObjects Materialize() const;

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

// Thrown where a NonBlockingView would have to block: the caller judges the request again
// where it may wait (the server hands it to a worker).
struct WouldBlock : std::exception {
  const char* what() const noexcept override { return "judging this request would block"; }
};

// `view` for a caller that must not wait on the API server (the server's I/O thread):
// cached lookups are answered; a read-through, and the Services (a LIST before the cache
// syncs, and a walk over every Service after), throw WouldBlock.
class NonBlockingView : public ObjectView {
 public:
  explicit NonBlockingView(const ObjectView& view) : view_(view) {}
  std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> Namespace(
      std::string_view namespace_name, Freshness freshness) const override {
    if (freshness != Freshness::kCached) throw WouldBlock();
    return view_.Namespace(namespace_name, freshness);
  }
  std::expected<std::vector<community::ServiceObject>, std::string> ServicesHoldingAddresses()
      const override {
    throw WouldBlock();
  }

 private:
  const ObjectView& view_;
};

}  // namespace bgpcomm::webhook
