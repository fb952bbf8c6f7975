#include "webhook/cluster_view.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "community/annotation.h"
#include "community/value.h"
#include "objectjson/metallb.h"
#include "objectjson/metallb_resources.h"

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

std::optional<MetallbKind> KindOf(const kube::Resource& resource) {
  if (resource == objectjson::kCommunities) return MetallbKind::kCommunity;
  if (resource == objectjson::kBGPAdvertisements) return MetallbKind::kAdvertisement;
  if (resource == objectjson::kIPAddressPools) return MetallbKind::kPool;
  if (resource == objectjson::kBGPPeers) return MetallbKind::kPeer;
  return std::nullopt;
}

namespace {

void IndexAdvertisement(DerivedIndexes& indexes, const community::Advertisement& advertisement,
                        bool add) {
  const std::string& name = advertisement.meta.name;
  auto edit = [&](std::map<std::string, std::set<std::string>>& index, const std::string& key) {
    if (add) {
      index[key].insert(name);
      return;
    }
    auto it = index.find(key);
    if (it == index.end()) return;
    it->second.erase(name);
    if (it->second.empty()) index.erase(it);
  };
  for (const auto& entry : community::ReferencedEntries(advertisement))
    edit(indexes.entry_users, entry);
  for (const auto& pool : advertisement.ip_address_pools) edit(indexes.pool_users, pool);
  if (!advertisement.ip_address_pool_selectors.empty()) {
    if (add) {
      indexes.pool_selecting.insert(name);
    } else {
      indexes.pool_selecting.erase(name);
    }
  }
}

std::vector<community::Prefix> PoolPrefixes(const community::AddressPool& pool) {
  std::vector<community::Prefix> prefixes;
  for (const auto& entry : pool.addresses) {
    if (auto parsed = community::ParsePoolEntry(entry)) {
      prefixes.insert(prefixes.end(), parsed->begin(), parsed->end());
    }
  }
  return prefixes;
}

// The pointer vector of `shared` that holds objects of type T.
template <typename T>
std::vector<const T*>& VectorOf(SharedObjects& shared);
template <>
std::vector<const community::CommunityObject*>& VectorOf(SharedObjects& shared) {
  return shared.communities;
}
template <>
std::vector<const community::Advertisement*>& VectorOf(SharedObjects& shared) {
  return shared.advertisements;
}
template <>
std::vector<const community::AddressPool*>& VectorOf(SharedObjects& shared) {
  return shared.pools;
}
template <>
std::vector<const community::Peer*>& VectorOf(SharedObjects& shared) {
  return shared.peers;
}

// Puts `value` (or, when null, erases `name`) into the by-name sorted pointer vector of
// T, and keeps `value` alive (and the object it replaces no longer) for this buffer.
template <typename T>
void Upsert(SharedObjects& shared, const std::string& name,
            const std::shared_ptr<const void>& value) {
  std::vector<const T*>& vector = VectorOf<T>(shared);
  auto it = std::lower_bound(vector.begin(), vector.end(), name,
                             [](const T* object, const std::string& key) {
                               return object->meta.name < key;
                             });
  bool found = it != vector.end() && (*it)->meta.name == name;
  if (found) shared.owners.erase(*it);
  if (!value) {
    if (found) vector.erase(it);
    return;
  }
  const T* object = static_cast<const T*>(value.get());
  shared.owners.emplace(object, value);
  if (found) {
    *it = object;
  } else {
    vector.insert(it, object);
  }
}

}  // namespace

DerivedIndexes BuildIndexes(const community::NamespaceObjects& objects) {
  DerivedIndexes indexes;
  for (const auto& advertisement : objects.advertisements)
    IndexAdvertisement(indexes, advertisement, /*add=*/true);
  for (const auto& pool : objects.pools) indexes.pool_prefixes[pool.meta.name] = PoolPrefixes(pool);
  return indexes;
}

IncrementalNamespace::IncrementalNamespace(std::string namespace_name)
    : namespace_(std::move(namespace_name)),
      spare_(std::make_shared<NamespaceSnapshot>()),
      live_(std::make_shared<NamespaceSnapshot>()) {
  spare_->objects.namespace_name = namespace_;
  live_->objects.namespace_name = namespace_;
  spare_->shared.emplace();
  live_->shared.emplace();
}

std::shared_ptr<const NamespaceSnapshot> IncrementalNamespace::Snapshot() const {
  std::lock_guard lock(read_mutex_);
  return live_;
}

DerivedIndexes IncrementalNamespace::Indexes() const {
  std::lock_guard lock(write_mutex_);
  return indexes_;
}

std::vector<std::string> IncrementalNamespace::AdvertisementsUsing(std::string_view entry) const {
  std::lock_guard lock(write_mutex_);
  auto it = indexes_.entry_users.find(std::string(entry));
  if (it == indexes_.entry_users.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::uint64_t IncrementalNamespace::copies() const {
  std::lock_guard lock(write_mutex_);
  return copies_;
}

std::vector<std::string> IncrementalNamespace::Apply(MetallbKind kind, std::string_view name,
                                                     const kube::ObjectPtr& object) {
  std::shared_ptr<const void> value = object ? object->decoded : nullptr;
  std::lock_guard lock(write_mutex_);
  Op op{.kind = kind, .name = std::string(name), .value = value, .alias_changes = {}};
  std::vector<std::string> affected;
  switch (kind) {
    case MetallbKind::kCommunity:
      affected = UpdateCommunity(
          name, static_cast<const community::CommunityObject*>(value.get()), op);
      break;
    case MetallbKind::kAdvertisement:
      UpdateAdvertisement(name, std::static_pointer_cast<const community::Advertisement>(value));
      if (value) affected.push_back(std::string(name));
      break;
    case MetallbKind::kPool:
      UpdatePool(name, std::static_pointer_cast<const community::AddressPool>(value));
      break;
    case MetallbKind::kPeer:
      break;
  }
  Publish(std::move(op));
  return affected;
}

std::vector<std::string> IncrementalNamespace::UpdateCommunity(
    std::string_view name, const community::CommunityObject* after, Op& op) {
  std::shared_ptr<const community::CommunityObject> before;
  auto stored = communities_.find(name);
  if (stored != communities_.end()) before = stored->second;
  if (!after) {
    if (stored != communities_.end()) communities_.erase(stored);
  } else if (stored != communities_.end()) {
    stored->second = std::static_pointer_cast<const community::CommunityObject>(op.value);
  } else {
    communities_.emplace(std::string(name),
                         std::static_pointer_cast<const community::CommunityObject>(op.value));
  }
  // The alias names either version defines, with the winning definition before the change.
  std::map<std::string, std::optional<std::pair<std::pair<std::string, std::size_t>,
                                                community::CommunityValue>>>
      touched;
  auto winner = [&](const std::string& alias)
      -> std::optional<std::pair<std::pair<std::string, std::size_t>, community::CommunityValue>> {
    auto it = definitions_.find(alias);
    if (it == definitions_.end() || it->second.empty()) return std::nullopt;
    return *it->second.begin();
  };
  auto definable = [](const community::CommunityAlias& alias) {
    return !alias.name.empty() && !community::LooksLikeLiteral(alias.name);
  };
  for (const community::CommunityObject* version : {before.get(), after}) {
    if (version == nullptr) continue;
    for (const auto& alias : version->aliases) {
      if (definable(alias) && !touched.contains(alias.name))
        touched.emplace(alias.name, winner(alias.name));
    }
  }
  if (before) {
    for (std::size_t i = 0; i < before->aliases.size(); ++i) {
      const auto& alias = before->aliases[i];
      if (!definable(alias)) continue;
      auto it = definitions_.find(alias.name);
      if (it == definitions_.end()) continue;
      it->second.erase({std::string(name), i});
      if (it->second.empty()) definitions_.erase(it);
    }
  }
  if (after) {
    for (std::size_t i = 0; i < after->aliases.size(); ++i) {
      const auto& alias = after->aliases[i];
      if (!definable(alias)) continue;
      auto parsed = community::ParseValue(alias.value);
      if (!parsed) continue;
      definitions_[alias.name].emplace(std::pair{std::string(name), i}, parsed->value);
    }
  }
  std::set<std::string> affected;
  for (const auto& [alias, previous] : touched) {
    auto current = winner(alias);
    // The owner and value matter to the table; the position only to precedence.
    auto visible = [](const auto& w) {
      return w ? std::optional{std::pair{w->first.first, w->second}} : std::nullopt;
    };
    if (visible(previous) == visible(current)) continue;
    if (current) {
      op.alias_changes.emplace_back(
          alias, community::AliasEntry{alias, current->second, current->first.first});
    } else {
      op.alias_changes.emplace_back(alias, std::nullopt);
    }
    if (auto users = indexes_.entry_users.find(alias); users != indexes_.entry_users.end())
      affected.insert(users->second.begin(), users->second.end());
  }
  return {affected.begin(), affected.end()};
}

void IncrementalNamespace::UpdateAdvertisement(
    std::string_view name, std::shared_ptr<const community::Advertisement> after) {
  auto it = advertisements_.find(name);
  if (it == advertisements_.end()) {
    if (!after) return;
    IndexAdvertisement(indexes_, *after, /*add=*/true);
    advertisements_.emplace(std::string(name), std::move(after));
    return;
  }
  const community::Advertisement& before = *it->second;
  if (!after) {
    IndexAdvertisement(indexes_, before, /*add=*/false);
    advertisements_.erase(it);
    return;
  }
  // Most updates leave the references alone (labels, the resolution annotation).
  bool same_references =
      before.ip_address_pools == after->ip_address_pools &&
      before.ip_address_pool_selectors.empty() == after->ip_address_pool_selectors.empty() &&
      ((before.communities == after->communities &&
        before.meta.annotations == after->meta.annotations) ||
       community::ReferencedEntries(before) == community::ReferencedEntries(*after));
  if (!same_references) {
    IndexAdvertisement(indexes_, before, /*add=*/false);
    IndexAdvertisement(indexes_, *after, /*add=*/true);
  }
  it->second = std::move(after);
}

void IncrementalNamespace::UpdatePool(std::string_view name,
                                      std::shared_ptr<const community::AddressPool> after) {
  if (auto it = pools_.find(name); it != pools_.end()) {
    indexes_.pool_prefixes.erase(it->second->meta.name);
    pools_.erase(it);
  }
  if (after) {
    indexes_.pool_prefixes[after->meta.name] = PoolPrefixes(*after);
    pools_.emplace(std::string(name), std::move(after));
  }
}

void IncrementalNamespace::ApplyOp(NamespaceSnapshot& buffer, const Op& op) {
  switch (op.kind) {
    case MetallbKind::kCommunity:
      Upsert<community::CommunityObject>(*buffer.shared, op.name, op.value);
      for (const auto& [alias, entry] : op.alias_changes) {
        if (entry) {
          buffer.aliases.Put(*entry);
        } else {
          buffer.aliases.Erase(alias);
        }
      }
      break;
    case MetallbKind::kAdvertisement:
      Upsert<community::Advertisement>(*buffer.shared, op.name, op.value);
      break;
    case MetallbKind::kPool:
      Upsert<community::AddressPool>(*buffer.shared, op.name, op.value);
      break;
    case MetallbKind::kPeer:
      Upsert<community::Peer>(*buffer.shared, op.name, op.value);
      break;
  }
}

void IncrementalNamespace::Publish(Op op) {
  // No reader can take a new reference to spare_ (only live_ is handed out), so a use
  // count of one stays one.
  if (spare_.use_count() == 1) {
    // The last reader's release (the count's decrement) happens before these writes.
    std::atomic_thread_fence(std::memory_order_acquire);
    for (const Op& missed : spare_missed_) ApplyOp(*spare_, missed);
  } else {
    // Only this writer replaces live_, so reading it needs no lock.
    spare_ = std::make_shared<NamespaceSnapshot>(*live_);
    ++copies_;
  }
  spare_missed_.clear();
  ApplyOp(*spare_, op);
  {
    std::lock_guard lock(read_mutex_);
    std::swap(live_, spare_);
  }
  spare_missed_.push_back(std::move(op));
}

ClusterView::ClusterView(kube::Client& client, const MetallbCache& cache,
                         std::string cached_namespace,
                         std::chrono::milliseconds read_through_deadline)
    : client_(client),
      cache_(cache),
      cached_namespace_(std::move(cached_namespace)),
      cached_(cached_namespace_),
      read_through_deadline_(read_through_deadline) {}

ClusterView::~ClusterView() {
  std::unique_lock lock(in_flight_->mutex);
  in_flight_->idle.wait(lock, [&] { return in_flight_->lists == 0; });
}

std::vector<std::string> ClusterView::Apply(const kube::Resource& resource,
                                            const kube::ObjectPtr& before,
                                            const kube::ObjectPtr& after) {
  const kube::ObjectPtr& any = after ? after : before;
  auto kind = KindOf(resource);
  if (!any || !kind || any->namespace_name != cached_namespace_) return {};
  return cached_.Apply(*kind, any->name, after);
}

std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> ClusterView::Namespace(
    std::string_view namespace_name, Freshness freshness) const {
  if (freshness == Freshness::kReadThrough) return ReadThrough(namespace_name);
  // Another namespace has no cache: the caller reads it through, once (a cached lookup
  // that read through as well would spend the request's time twice on a slow API).
  if (namespace_name != cached_namespace_) {
    return std::unexpected("namespace " + std::string(namespace_name) + " is not cached");
  }
  if (!cache_.HasSynced()) return std::unexpected("the cache has not synced yet");
  return cached_.Snapshot();
}

std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> ClusterView::ReadThrough(
    std::string_view namespace_name) const {
  // Shared with the LIST threads, which may outlive this call when the deadline passes.
  struct Lists {
    std::mutex mutex;
    std::condition_variable finished;
    int done = 0;
    std::string error;  // the first failure
    community::NamespaceObjects objects;
  };
  auto lists = std::make_shared<Lists>();
  lists->objects.namespace_name = std::string(namespace_name);
  auto start = [&](const kube::Resource& resource, auto decode, auto member) {
    {
      std::lock_guard lock(in_flight_->mutex);
      ++in_flight_->lists;
    }
    std::thread([&client = client_, in_flight = in_flight_, lists, resource, decode, member,
                 ns = std::string(namespace_name)] {
      using Vector = std::remove_reference_t<decltype(lists->objects.*member)>;
      Vector out;
      community::Diagnostics ignored;
      auto listed = client.List(resource, ns, {}, [&](const rapidjson::Value& item) {
        out.push_back(decode(item, ignored));
      });
      {
        std::lock_guard lock(lists->mutex);
        if (!listed && lists->error.empty()) lists->error = listed.error().ToString();
        if (listed) lists->objects.*member = std::move(out);
        ++lists->done;
      }
      lists->finished.notify_all();
      std::lock_guard lock(in_flight->mutex);
      --in_flight->lists;
      in_flight->idle.notify_all();
    }).detach();
  };
  using community::NamespaceObjects;
  start(objectjson::kCommunities, DecodeCommunity, &NamespaceObjects::communities);
  start(objectjson::kBGPAdvertisements, DecodeAdvertisement, &NamespaceObjects::advertisements);
  start(objectjson::kIPAddressPools, DecodePool, &NamespaceObjects::pools);
  start(objectjson::kBGPPeers, DecodePeer, &NamespaceObjects::peers);
  start(objectjson::kBFDProfiles, objectjson::DecodeBfdProfile, &NamespaceObjects::bfd_profiles);
  std::unique_lock lock(lists->mutex);
  if (!lists->finished.wait_for(lock, read_through_deadline_,
                                [&] { return lists->done == 5 || !lists->error.empty(); })) {
    return std::unexpected("the API server did not answer within " +
                           std::to_string(read_through_deadline_.count()) + " ms");
  }
  if (!lists->error.empty()) return std::unexpected(lists->error);
  return NamespaceSnapshot::Make(std::move(lists->objects));
}

std::expected<std::vector<community::ServiceObject>, std::string>
ClusterView::ServicesHoldingAddresses() const {
  std::vector<community::ServiceObject> out;
  auto keep = [&](const community::ServiceObject& s) {
    if (s.type == "LoadBalancer" && !s.status.load_balancer.ingress.empty()) out.push_back(s);
  };
  if (services_ != nullptr && services_->HasSynced()) {
    for (const kube::ObjectPtr& object : services_->List()) {
      if (read_service_) {
        if (auto read = read_service_(*object)) keep(*read);
      } else if (auto decoded = object->As<community::ServiceObject>()) {
        keep(*decoded);
      }
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
