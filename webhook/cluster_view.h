// The webhook's view of the cluster: the cached namespace kept current event by event
// (IncrementalNamespace) for cached lookups, and LISTs against the API for read-through
// ones.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "community/ip_prefix.h"
#include "kube/client.h"
#include "webhook/metallb_cache.h"
#include "webhook/object_view.h"

namespace bgpcomm::webhook {

// The decoded objects of the cache, ordered by name.
community::NamespaceObjects DecodeStored(std::string_view namespace_name,
                                         const MetallbObjects& objects);

// The four kinds the view keeps.
enum class MetallbKind { kCommunity, kAdvertisement, kPool, kPeer };
// The kind of one of the four metallb.io resources; nullopt for any other.
std::optional<MetallbKind> KindOf(const kube::Resource& resource);

// The indexes derived from a namespace's objects, as the resolver and lookups need them.
struct DerivedIndexes {
  // Entry (alias or literal, as ReferencedEntries() gives it) -> advertisements naming it.
  std::map<std::string, std::set<std::string>> entry_users;
  // Pool name -> advertisements naming it in spec.ipAddressPools.
  std::map<std::string, std::set<std::string>> pool_users;
  // Advertisements that choose pools by label (any pool change may concern them).
  std::set<std::string> pool_selecting;
  // Pool name -> the prefixes of its valid address entries, in entry order.
  std::map<std::string, std::vector<community::Prefix>> pool_prefixes;
  bool operator==(const DerivedIndexes&) const = default;
};

// Builds the indexes of `objects` from scratch (the reference the incremental ones equal).
DerivedIndexes BuildIndexes(const community::NamespaceObjects& objects);

// One namespace's objects, kept current per watch event in O(log n + size of the object)
// for updates, and published as immutable snapshots that readers share without copying.
//
// Two snapshot buffers alternate (left-right): an event is applied to the buffer no
// reader holds, which is then published; the events it missed while it was published
// are replayed onto it first. Only when a reader still holds that buffer (a decision
// that has outlived two events) is it copied instead. Safe to call from several
// informer threads; Snapshot() never waits for an event's work.
class IncrementalNamespace {
 public:
  explicit IncrementalNamespace(std::string namespace_name);

  // Applies one informer event of `kind`: `object` is the object as stored after the
  // event, or null for a deletion of `name`. Objects without a decoded form count as
  // absent. Returns the names of the advertisements whose resolution may have changed
  // (those referencing an alias whose winning definition changed, and an advertisement
  // added or updated), sorted.
  std::vector<std::string> Apply(MetallbKind kind, std::string_view name,
                                 const kube::ObjectPtr& object);

  // The current snapshot: every event applied so far, nothing half-applied.
  std::shared_ptr<const NamespaceSnapshot> Snapshot() const;
  // A copy of the current derived indexes.
  DerivedIndexes Indexes() const;
  // The advertisements referencing `entry` (an alias name), sorted.
  std::vector<std::string> AdvertisementsUsing(std::string_view entry) const;
  // How often a buffer had to be copied because a reader still held it.
  std::uint64_t copies() const;

 private:
  struct Op {
    MetallbKind kind;
    std::string name;
    std::shared_ptr<const void> value;  // the decoded object; null: erase
    std::vector<std::pair<std::string, std::optional<community::AliasEntry>>> alias_changes;
  };
  // (owner Community name, position in its spec.communities) -> parsed value, ordered
  // as AliasTable::Build() gives precedence.
  using Definitions = std::map<std::pair<std::string, std::size_t>, community::CommunityValue>;

  static void ApplyOp(NamespaceSnapshot& buffer, const Op& op);
  std::vector<std::string> UpdateCommunity(std::string_view name,
                                           const community::CommunityObject* after, Op& op);
  void UpdateAdvertisement(std::string_view name,
                           std::shared_ptr<const community::Advertisement> after);
  void UpdatePool(std::string_view name, std::shared_ptr<const community::AddressPool> after);
  void Publish(Op op);

  std::string namespace_;
  mutable std::mutex write_mutex_;  // the members below, except live_
  std::map<std::string, std::shared_ptr<const community::CommunityObject>, std::less<>>
      communities_;
  std::map<std::string, std::shared_ptr<const community::Advertisement>, std::less<>>
      advertisements_;
  std::map<std::string, std::shared_ptr<const community::AddressPool>, std::less<>> pools_;
  std::unordered_map<std::string, Definitions> definitions_;  // alias name -> definitions
  DerivedIndexes indexes_;
  std::shared_ptr<NamespaceSnapshot> spare_;
  std::vector<Op> spare_missed_;  // applied to live_ but not yet to spare_
  std::uint64_t copies_ = 0;

  mutable std::mutex read_mutex_;  // live_
  std::shared_ptr<NamespaceSnapshot> live_;
};

class ClusterView : public ObjectView {
 public:
  // `cache` watches `cached_namespace`; other namespaces are only read through (a cached
  // lookup of one fails at once, so that a request reads it through once).
  // Both must outlive the view. Feed every cache event to Apply() (MetallbCache::OnEvent).
  // A read-through makes its four LISTs at once and gives up after `read_through_deadline`
  // (keep it below the webhook's timeoutSeconds): `client`'s own timeouts should not be
  // longer, since an abandoned LIST still runs to its end (the view waits for those when
  // destroyed).
  ClusterView(kube::Client& client, const MetallbCache& cache, std::string cached_namespace,
              std::chrono::milliseconds read_through_deadline = std::chrono::seconds(3));
  ~ClusterView() override;
  ClusterView(const ClusterView&) = delete;
  ClusterView& operator=(const ClusterView&) = delete;

  // How a cached Service is read back: null when the object's decoded form is unusable.
  using ServiceReader =
      std::function<std::optional<community::ServiceObject>(const kube::Object& object)>;
  // Answers ServicesHoldingAddresses() from `services` (an informer of core/v1 Services in
  // every namespace) once it has synced, by a LIST before. `read` turns a cached object into
  // the Service; the default takes the object as objectjson::DecodeService decoded it. One
  // informer serves the view and the allocator (main.cc), so that the API server feeds one
  // watch of every Service, not two. Call before serving; `services` must outlive the view.
  void CacheServices(const kube::Informer* services, ServiceReader read = nullptr) {
    services_ = services;
    read_service_ = std::move(read);
  }

  std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> Namespace(
      std::string_view namespace_name, Freshness freshness) const override;

  // Applies one cache event (see IncrementalNamespace::Apply); events of namespaces other
  // than the cached one are ignored.
  std::vector<std::string> Apply(const kube::Resource& resource, const kube::ObjectPtr& before,
                                 const kube::ObjectPtr& after);

  const IncrementalNamespace& cached() const { return cached_; }

  std::expected<std::vector<community::ServiceObject>, std::string> ServicesHoldingAddresses()
      const override;

 private:
  std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> ReadThrough(
      std::string_view namespace_name) const;

  kube::Client& client_;
  const MetallbCache& cache_;
  std::string cached_namespace_;
  const kube::Informer* services_ = nullptr;
  ServiceReader read_service_;
  IncrementalNamespace cached_;
  std::chrono::milliseconds read_through_deadline_;
  // LISTs still running (some perhaps abandoned at their deadline).
  struct InFlight {
    std::mutex mutex;
    std::condition_variable idle;
    int lists = 0;
  };
  std::shared_ptr<InFlight> in_flight_ = std::make_shared<InFlight>();
};

}  // namespace bgpcomm::webhook
