#include "webhook/cluster_view.h"

#include <gtest/gtest.h>

#include <random>

#include <httplib.h>

#include <thread>

#include "community/annotation.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::webhook {
namespace {

constexpr std::string_view kNamespace = "metallb-system";

// The informer's store of the four kinds as a model: name -> object.
struct Store {
  std::map<std::string, kube::ObjectPtr> by_kind[4];
};

kube::ObjectPtr Stored(std::string name, std::string rv, std::shared_ptr<const void> decoded) {
  auto object = std::make_shared<kube::Object>();
  object->namespace_name = std::string(kNamespace);
  object->name = std::move(name);
  object->resource_version = std::move(rv);
  object->decoded = std::move(decoded);
  return object;
}

community::ObjectMeta Meta(const std::string& name) {
  return {.name = name, .namespace_name = std::string(kNamespace), .labels = {},
          .annotations = {}};
}

// Random objects over small name spaces, so that events collide, aliases shadow each
// other and references come and go.
class Generator {
 public:
  explicit Generator(std::uint32_t seed) : random_(seed) {}

  int Below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  bool Chance(int percent) { return Below(100) < percent; }

  std::string AliasName() {
    switch (Below(12)) {
      case 0: return "";            // never an alias
      case 1: return "64512:9";     // looks like a literal: never an alias
      default: return "alias-" + std::to_string(Below(15));
    }
  }
  std::string Value() {
    switch (Below(8)) {
      case 0: return "64512:70000";  // invalid: left out of the table
      case 1: return "no-export";
      case 2: return "large:64512:1:" + std::to_string(Below(4));
      default: return "64512:" + std::to_string(Below(6));
    }
  }
  std::shared_ptr<const void> Community(const std::string& name) {
    auto object = std::make_shared<community::CommunityObject>();
    object->meta = Meta(name);
    for (int i = Below(5); i > 0; --i) object->aliases.push_back({AliasName(), Value()});
    return object;
  }
  std::shared_ptr<const void> Advertisement(const std::string& name) {
    auto object = std::make_shared<community::Advertisement>();
    object->meta = Meta(name);
    for (int i = Below(4); i > 0; --i) {
      object->communities.push_back(Chance(70) ? "alias-" + std::to_string(Below(15))
                                               : "64512:" + std::to_string(Below(6)));
    }
    if (Chance(30)) {
      // Stored in place: the annotation's `from` holds the aliases.
      object->meta.annotations[std::string(community::kResolvedAnnotation)] =
          R"({"from":["alias-)" + std::to_string(Below(15)) + R"("],"communities":[)" +
          (object->communities.empty() ? "" : "\"" + object->communities[0] + "\"") + "]}";
    }
    for (int i = Below(3); i > 0; --i) object->ip_address_pools.push_back(PoolName());
    if (Chance(20)) object->ip_address_pool_selectors.push_back({{{"tier", "a"}}, {}});
    return object;
  }
  std::shared_ptr<const void> Pool(const std::string& name) {
    auto object = std::make_shared<community::AddressPool>();
    object->meta = Meta(name);
    static const char* kEntries[] = {"198.51.100.0/28", "203.0.113.10-203.0.113.20",
                                     "2001:db8::/120", "not-an-address", "198.18.0.0/15"};
    for (int i = Below(3); i > 0; --i) object->addresses.push_back(kEntries[Below(5)]);
    return object;
  }
  std::shared_ptr<const void> Peer(const std::string& name) {
    auto object = std::make_shared<community::Peer>();
    object->meta = Meta(name);
    object->peer_asn = 64500 + Below(3);
    object->peer_address = "198.51.100." + std::to_string(1 + Below(5));
    return object;
  }
  std::shared_ptr<const void> Object(MetallbKind kind, const std::string& name) {
    switch (kind) {
      case MetallbKind::kCommunity: return Community(name);
      case MetallbKind::kAdvertisement: return Advertisement(name);
      case MetallbKind::kPool: return Pool(name);
      case MetallbKind::kPeer: return Peer(name);
    }
    return nullptr;
  }
  std::string Name(MetallbKind kind) {
    static const char* kPrefix[] = {"community-", "advert-", "pool-", "peer-"};
    static const int kCount[] = {8, 30, 6, 4};
    int k = static_cast<int>(kind);
    return kPrefix[k] + std::to_string(Below(kCount[k]));
  }
  std::string PoolName() { return "pool-" + std::to_string(Below(6)); }
  // resourceVersions in no particular order, as a relist after a compaction may give.
  std::string ResourceVersion() { return std::to_string(Below(1000000)); }

 private:
  std::mt19937 random_;
};

// A full rebuild from the store: what the view must equal.
struct Rebuilt {
  std::shared_ptr<const NamespaceSnapshot> snapshot;
  DerivedIndexes indexes;
};

Rebuilt Rebuild(const Store& store) {
  MetallbObjects stored;
  std::vector<kube::ObjectPtr>* lists[] = {&stored.communities, &stored.advertisements,
                                           &stored.pools, &stored.peers};
  for (int k = 0; k < 4; ++k)
    for (const auto& [name, object] : store.by_kind[k]) lists[k]->push_back(object);
  auto snapshot = NamespaceSnapshot::Make(DecodeStored(kNamespace, stored));
  return {snapshot, BuildIndexes(snapshot->Materialize())};
}

void ExpectSameObjects(const community::NamespaceObjects& a,
                       const community::NamespaceObjects& b) {
  EXPECT_EQ(a.namespace_name, b.namespace_name);
  EXPECT_EQ(a.communities, b.communities);
  EXPECT_EQ(a.advertisements, b.advertisements);
  EXPECT_EQ(a.pools, b.pools);
  EXPECT_EQ(a.peers, b.peers);
}

void ExpectSameAliases(const community::AliasTable& a, const community::AliasTable& b) {
  ASSERT_EQ(a.Names(), b.Names());
  for (std::string_view name : a.Names()) EXPECT_EQ(*a.Find(name), *b.Find(name)) << name;
}

// The advertisements whose resolution an event may change, computed from two rebuilds:
// the users of every alias whose table entry differs, plus an added or updated
// advertisement itself.
std::vector<std::string> ExpectedAffected(const Rebuilt& before, const Rebuilt& after,
                                          MetallbKind kind, const std::string& name,
                                          bool present) {
  std::set<std::string> affected;
  if (kind == MetallbKind::kAdvertisement && present) affected.insert(name);
  if (kind == MetallbKind::kCommunity) {
    std::set<std::string_view> aliases;
    for (auto n : before.snapshot->aliases.Names()) aliases.insert(n);
    for (auto n : after.snapshot->aliases.Names()) aliases.insert(n);
    for (std::string_view alias : aliases) {
      const auto* was = before.snapshot->aliases.Find(alias);
      const auto* is = after.snapshot->aliases.Find(alias);
      if ((was == nullptr) != (is == nullptr) || (was && *was != *is)) {
        auto users = after.indexes.entry_users.find(std::string(alias));
        if (users != after.indexes.entry_users.end())
          affected.insert(users->second.begin(), users->second.end());
      }
    }
  }
  return {affected.begin(), affected.end()};
}

class RandomEvents : public ::testing::TestWithParam<std::uint32_t> {};

// Adds, updates, deletes and relists of all four kinds, with resourceVersions out of
// order, while readers hold old snapshots: after every event the view equals a rebuild
// from the store, every held snapshot still shows what it showed, and the advertisements
// the view names for the resolver are exactly those whose resolution may have changed.
TEST_P(RandomEvents, IncrementalViewEqualsFullRebuildAfterEveryEvent) {
  Generator gen(GetParam());
  Store store;
  IncrementalNamespace view{std::string(kNamespace)};
  Rebuilt current = Rebuild(store);
  struct Held {
    std::shared_ptr<const NamespaceSnapshot> snapshot;
    std::shared_ptr<const NamespaceSnapshot> copy;
  };
  std::vector<Held> held;
  int events = 0;

  auto emit = [&](MetallbKind kind, const std::string& name, kube::ObjectPtr object) {
    auto& kind_store = store.by_kind[static_cast<int>(kind)];
    if (object) {
      kind_store[name] = object;
    } else {
      kind_store.erase(name);
    }
    Rebuilt next = Rebuild(store);
    std::vector<std::string> affected = view.Apply(kind, name, object);
    ++events;
    SCOPED_TRACE("event " + std::to_string(events) + " on " + name);
    EXPECT_EQ(affected, ExpectedAffected(current, next, kind, name, object && object->decoded));
    auto snapshot = view.Snapshot();
    ExpectSameObjects(snapshot->Materialize(), next.snapshot->Materialize());
    ExpectSameAliases(snapshot->aliases, next.snapshot->aliases);
    EXPECT_EQ(view.Indexes(), next.indexes);
    current = std::move(next);
    if (gen.Chance(10)) {
      held.push_back({snapshot, NamespaceSnapshot::Make(snapshot->Materialize())});
    }
    if (!held.empty() && gen.Chance(10)) held.erase(held.begin() + gen.Below(held.size()));
  };

  for (int step = 0; step < 3000 && !HasFailure(); ++step) {
    auto kind = static_cast<MetallbKind>(gen.Below(4));
    if (gen.Chance(2)) {
      // A relist of one kind, as Informer::Replace reports it: deletions of what is
      // gone, then additions and changes (those whose resourceVersion differs) by key.
      auto& kind_store = store.by_kind[static_cast<int>(kind)];
      std::map<std::string, kube::ObjectPtr> next;
      for (int i = gen.Below(12); i > 0; --i) {
        std::string name = gen.Name(kind);
        auto it = kind_store.find(name);
        next[name] = it != kind_store.end() && gen.Chance(50)
                         ? it->second
                         : Stored(name, gen.ResourceVersion(), gen.Object(kind, name));
      }
      std::vector<std::string> gone;
      for (const auto& [name, object] : kind_store)
        if (!next.contains(name)) gone.push_back(name);
      for (const auto& name : gone) emit(kind, name, nullptr);
      for (const auto& [name, object] : next) {
        auto it = kind_store.find(name);
        if (it == kind_store.end() || it->second->resource_version != object->resource_version)
          emit(kind, name, object);
      }
      continue;
    }
    std::string name = gen.Name(kind);
    if (gen.Chance(25)) {
      emit(kind, name, nullptr);  // a deletion (also of an absent object: a no-op)
    } else if (gen.Chance(5)) {
      emit(kind, name, Stored(name, gen.ResourceVersion(), nullptr));  // undecodable
    } else {
      emit(kind, name, Stored(name, gen.ResourceVersion(), gen.Object(kind, name)));
    }
  }
  EXPECT_GT(events, 3000);
  for (const Held& h : held) {
    ExpectSameObjects(h.snapshot->Materialize(), h.copy->Materialize());
    ExpectSameAliases(h.snapshot->aliases, h.copy->aliases);
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomEvents, ::testing::Values(1u, 2u, 3u, 4u, 5u));

TEST(IncrementalNamespace, UpdatesWithoutCopyingWhenNoReaderHoldsTheOtherBuffer) {
  IncrementalNamespace view{std::string(kNamespace)};
  Generator gen(7);
  for (int i = 0; i < 200; ++i) {
    std::string name = "advert-" + std::to_string(i % 50);
    view.Apply(MetallbKind::kAdvertisement, name,
               Stored(name, std::to_string(i), gen.Advertisement(name)));
    auto reader = view.Snapshot();  // released before the next event
  }
  EXPECT_EQ(view.copies(), 0u);
  EXPECT_EQ(view.Snapshot()->Objects().advertisements.size(), 50u);

  // A reader that holds a snapshot across two events forces one copy, and its snapshot
  // keeps showing what it showed.
  auto held = view.Snapshot();
  auto before = held->Materialize().advertisements;
  for (int i = 0; i < 3; ++i) view.Apply(MetallbKind::kAdvertisement, "advert-0", nullptr);
  EXPECT_EQ(view.copies(), 1u);
  EXPECT_EQ(held->Materialize().advertisements, before);
  EXPECT_EQ(view.Snapshot()->Objects().advertisements.size(), 49u);
}

TEST(IncrementalNamespace, NamesTheUsersOfAChangedAliasOnly) {
  IncrementalNamespace view{std::string(kNamespace)};
  auto advert = [&](const std::string& name, std::vector<std::string> communities) {
    auto object = std::make_shared<community::Advertisement>();
    object->meta = Meta(name);
    object->communities = std::move(communities);
    return view.Apply(MetallbKind::kAdvertisement, name, Stored(name, "1", object));
  };
  auto communities = [&](const std::string& name,
                         std::vector<community::CommunityAlias> aliases) {
    auto object = std::make_shared<community::CommunityObject>();
    object->meta = Meta(name);
    object->aliases = std::move(aliases);
    return view.Apply(MetallbKind::kCommunity, name, Stored(name, "2", object));
  };
  EXPECT_EQ(advert("uses-gold", {"gold"}), std::vector<std::string>{"uses-gold"});
  advert("uses-silver", {"silver", "64512:1"});
  advert("uses-both", {"gold", "silver"});
  EXPECT_EQ(communities("tiers", {{"gold", "64512:100"}}),
            (std::vector<std::string>{"uses-both", "uses-gold"}));
  EXPECT_EQ(communities("tiers", {{"gold", "64512:100"}, {"silver", "64512:200"}}),
            (std::vector<std::string>{"uses-both", "uses-silver"}));
  // A later object defining gold again is shadowed: nothing changes.
  EXPECT_TRUE(communities("tiers-2", {{"gold", "64512:999"}}).empty());
  EXPECT_EQ(view.Snapshot()->aliases.Find("gold")->owner, "tiers");
  EXPECT_EQ(view.AdvertisementsUsing("silver"),
            (std::vector<std::string>{"uses-both", "uses-silver"}));
  EXPECT_EQ(view.Apply(MetallbKind::kCommunity, "tiers", nullptr),
            (std::vector<std::string>{"uses-both", "uses-gold", "uses-silver"}));
  EXPECT_EQ(view.Snapshot()->aliases.Find("gold")->owner, "tiers-2");
}

}  // namespace
}  // namespace bgpcomm::webhook

namespace bgpcomm::webhook {
namespace {

// An API server whose BGPPeer LISTs take `peers_delay`; the other kinds answer at once.
class SlowApiserver {
 public:
  explicit SlowApiserver(std::chrono::milliseconds peers_delay) : peers_delay_(peers_delay) {
    server_.server().Get(R"(/apis/([^/]+)/([^/]+)/namespaces/([^/]+)/([^/]+))",
                         [this](const httplib::Request& req, httplib::Response& res) {
                           std::string plural = req.matches[4];
                           if (plural == "bgppeers") std::this_thread::sleep_for(peers_delay_);
                           res.set_content(
                               R"({"kind":"List","metadata":{"resourceVersion":"7"},"items":[)" +
                                   std::string(plural == "communities" ? kCommunity : "") + "]}",
                               "application/json");
                         });
    server_.Start();
  }
  std::string Url() const { return server_.Url(); }

 private:
  static constexpr const char* kCommunity =
      R"({"metadata":{"name":"tiers","namespace":"metallb-system","resourceVersion":"3"},)"
      R"("spec":{"communities":[{"name":"gold","value":"64512:100"}]}})";
  std::chrono::milliseconds peers_delay_;
  kube::testing::TestServer server_;
};

std::unique_ptr<kube::Client> ClientOf(const std::string& url, std::chrono::milliseconds timeout) {
  auto client = kube::Client::New(kube::RestConfig{.server = url},
                                  kube::ClientOptions{.connect_timeout = timeout,
                                                      .request_timeout = timeout});
  EXPECT_TRUE(client);
  return std::move(*client);
}

TEST(ClusterViewReadThrough, ListsEveryKindAndBuildsTheSnapshot) {
  SlowApiserver apiserver(std::chrono::milliseconds(0));
  auto client = ClientOf(apiserver.Url(), std::chrono::seconds(5));
  MetallbCache cache(*client, std::string(kNamespace));
  ClusterView view(*client, cache, std::string(kNamespace), std::chrono::seconds(5));
  auto snapshot = view.Namespace("tenant-a", Freshness::kReadThrough);
  ASSERT_TRUE(snapshot) << snapshot.error();
  ASSERT_EQ((*snapshot)->Objects().communities.size(), 1u);
  EXPECT_EQ((*snapshot)->aliases.Find("gold")->owner, "tiers");
  EXPECT_TRUE((*snapshot)->Objects().peers.empty());
}

// A slow API server: the read-through gives up at its deadline (the LISTs run at once,
// so the deadline is the whole wait), and says so; the decision then answers "cannot be
// judged, try again".
TEST(ClusterViewReadThrough, GivesUpAtItsDeadline) {
  SlowApiserver apiserver(std::chrono::milliseconds(1500));
  auto client = ClientOf(apiserver.Url(), std::chrono::seconds(3));
  MetallbCache cache(*client, std::string(kNamespace));
  ClusterView view(*client, cache, std::string(kNamespace), std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  auto snapshot = view.Namespace("tenant-a", Freshness::kReadThrough);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(snapshot);
  EXPECT_EQ(snapshot.error(), "the API server did not answer within 300 ms");
  EXPECT_LT(waited, std::chrono::milliseconds(1400));
  EXPECT_GE(waited, std::chrono::milliseconds(300));
}

}  // namespace
}  // namespace bgpcomm::webhook
