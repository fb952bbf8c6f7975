// The webhook's cached view per watch event with 10,000 aliases (100 Communities of 100)
// and 10,000 advertisements (10 entries each) cached (issue target: under 20 µs median).
// Baseline in the same run: the full rebuild the view did before it was incremental
// (every cached object into a fresh NamespaceObjects, then the alias table).
#include <benchmark/benchmark.h>

#include "bench/bench_fixtures.h"
#include "webhook/cluster_view.h"

namespace bgpcomm::bench {
namespace {

using webhook::MetallbKind;

constexpr int kCommunities = 100;
constexpr int kAliasesEach = 100;
constexpr int kAliases = kCommunities * kAliasesEach;
constexpr int kAdvertisements = 10000;

kube::ObjectPtr Stored(std::string name, int rv, std::shared_ptr<const void> decoded) {
  auto object = std::make_shared<kube::Object>();
  object->namespace_name = "metallb-system";
  object->name = std::move(name);
  object->resource_version = std::to_string(rv);
  object->decoded = std::move(decoded);
  return object;
}

std::string CommunityName(int c) { return "communities-" + std::to_string(1000 + c); }

std::shared_ptr<const community::CommunityObject> CommunityOf(int c, int version) {
  auto object = std::make_shared<community::CommunityObject>();
  object->meta = {.name = CommunityName(c), .namespace_name = "metallb-system"};
  for (int i = 0; i < kAliasesEach; ++i) {
    int n = c * kAliasesEach + i;
    object->aliases.push_back({AliasName(n), "64512:" + std::to_string((n + version) % 65536)});
  }
  return object;
}

std::shared_ptr<const community::Advertisement> AdvertisementVersion(int a, int version) {
  auto object = std::make_shared<community::Advertisement>(AdvertisementOf(10, kAliases, a));
  object->meta.labels["version"] = std::to_string(version);
  return object;
}

struct Cached {
  webhook::MetallbObjects stored;
  std::unique_ptr<webhook::IncrementalNamespace> view;
};

// The cache after its initial LIST, fed to a view as the informers feed it.
Cached& Fixture() {
  static Cached* cached = [] {
    auto* c = new Cached;
    c->view = std::make_unique<webhook::IncrementalNamespace>("metallb-system");
    for (int i = 0; i < kCommunities; ++i) {
      auto object = Stored(CommunityName(i), 1, CommunityOf(i, 0));
      c->stored.communities.push_back(object);
      c->view->Apply(MetallbKind::kCommunity, object->name, object);
    }
    for (int a = 0; a < kAdvertisements; ++a) {
      auto object = Stored("advert-" + std::to_string(a), 1, AdvertisementVersion(a, 0));
      c->stored.advertisements.push_back(object);
      c->view->Apply(MetallbKind::kAdvertisement, object->name, object);
    }
    auto pool = std::make_shared<community::AddressPool>(
        community::AddressPool{.meta = {.name = "production-pool", .namespace_name = "metallb-system"},
                               .addresses = {"203.0.113.0/24"}});
    c->stored.pools.push_back(Stored("production-pool", 1, pool));
    c->view->Apply(MetallbKind::kPool, "production-pool", c->stored.pools.back());
    return c;
  }();
  return *cached;
}

// An advertisement changed (a label): the event the cache sees most.
void BM_ViewUpdateAdvertisement(benchmark::State& state) {
  Cached& c = Fixture();
  std::vector<kube::ObjectPtr> versions;
  for (int a = 0; a < 1000; ++a) {
    int index = (a * 7919) % kAdvertisements;
    versions.push_back(
        Stored("advert-" + std::to_string(index), 2, AdvertisementVersion(index, 1 + a % 2)));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& object = versions[i++ % versions.size()];
    benchmark::DoNotOptimize(c.view->Apply(MetallbKind::kAdvertisement, object->name, object));
  }
}
BENCHMARK(BM_ViewUpdateAdvertisement);

// An advertisement's communities changed (other aliases referenced): the indexes change.
void BM_ViewUpdateAdvertisementCommunities(benchmark::State& state) {
  Cached& c = Fixture();
  std::vector<kube::ObjectPtr> versions;
  for (int a = 0; a < 1000; ++a) {
    int index = (a * 7919) % kAdvertisements;
    auto changed = std::make_shared<community::Advertisement>(
        AdvertisementOf(10, kAliases, index + (a % 2) * 17));
    changed->meta.name = "advert-" + std::to_string(index);
    versions.push_back(Stored(changed->meta.name, 3, changed));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& object = versions[i++ % versions.size()];
    benchmark::DoNotOptimize(c.view->Apply(MetallbKind::kAdvertisement, object->name, object));
  }
}
BENCHMARK(BM_ViewUpdateAdvertisementCommunities);

// An advertisement created and then deleted (two events), at a name in the middle of
// the order, so that both shift half of the vector.
void BM_ViewAddAndDeleteAdvertisement(benchmark::State& state) {
  Cached& c = Fixture();
  auto object = Stored("advert-5000-new", 1, AdvertisementVersion(5000, 9));
  for (auto _ : state) {
    c.view->Apply(MetallbKind::kAdvertisement, object->name, object);
    c.view->Apply(MetallbKind::kAdvertisement, object->name, nullptr);
  }
}
BENCHMARK(BM_ViewAddAndDeleteAdvertisement);

// A Community of 100 aliases changed every value (each alias is referenced by ~10
// advertisements, all named for the resolver).
void BM_ViewUpdateCommunity(benchmark::State& state) {
  Cached& c = Fixture();
  std::vector<kube::ObjectPtr> versions;
  for (int v = 1; v <= 2; ++v) versions.push_back(Stored(CommunityName(50), 1 + v, CommunityOf(50, v)));
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& object = versions[i++ % versions.size()];
    benchmark::DoNotOptimize(c.view->Apply(MetallbKind::kCommunity, object->name, object));
  }
}
BENCHMARK(BM_ViewUpdateCommunity);

// Taking a snapshot for a decision.
void BM_ViewSnapshot(benchmark::State& state) {
  Cached& c = Fixture();
  for (auto _ : state) benchmark::DoNotOptimize(c.view->Snapshot());
}
BENCHMARK(BM_ViewSnapshot);

// Baseline: the full rebuild from the cache that each event used to cost.
void BM_Baseline_FullRebuild(benchmark::State& state) {
  Cached& c = Fixture();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        webhook::NamespaceSnapshot::Make(webhook::DecodeStored("metallb-system", c.stored)));
  }
}
BENCHMARK(BM_Baseline_FullRebuild)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bgpcomm::bench

BENCHMARK_MAIN();
