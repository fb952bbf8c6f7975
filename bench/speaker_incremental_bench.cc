// The speaker's Kubernetes-mode change path (issue 16 item 3) with 100,000 LoadBalancer
// Services of one address each (198.18.0.0/15, one pool, one advertisement of three
// communities, one eBGP IPv4 peer with an Established Adj-RIB-Out):
// - one Service's address changes: IncrementalRoutes recomputes that Service, the peer's
//   route set takes the two changed routes and the Adj-RIB-Out encodes one withdrawal and
//   one announcement;
// - the baseline, measured in the same run: what the same change cost before, a copy of the
//   decoded objects (the store snapshot), ComputeDesiredRoutes over all of them and the
//   Adj-RIB-Out's diff of the whole table;
// - the initial load (every Service set, then one Commit) against ComputeDesiredRoutes;
// - an advertisement's communities change (every route affected), against the same baseline.
// Counter heap_B/service: what IncrementalRoutes keeps on the heap per Service (glibc
// mallinfo2, outside the timed loop; the Services themselves are shared with the informer).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <vector>

#include "community/annotation.h"
#include "speaker/adj_rib_out.h"
#include "speaker/desired_routes.h"
#include "speaker/incremental_routes.h"

namespace bgpcomm::speaker {
namespace {

constexpr char kNs[] = "metallb-system";
constexpr int kServices = 100000;

std::string Ip(int i) {  // the i-th address of 198.18.0.0/15
  return "198." + std::to_string(18 + i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
         std::to_string(i % 256);
}

community::Advertisement Advertisement(const std::string& first_value) {
  community::Advertisement adv;
  adv.meta.name = "advert";
  adv.meta.namespace_name = kNs;
  adv.communities = {"primary-route", "backup-route", "region"};
  adv.meta.annotations[std::string(community::kResolvedAnnotation)] = community::EncodeAnnotation(
      {adv.communities, {first_value, "64512:200", "large:64512:1:100"}, {}});
  adv.ip_address_pools = {"bench-pool"};
  return adv;
}

SpeakerObjects Objects() {
  SpeakerObjects o;
  o.advertisements = {Advertisement("64512:100")};
  community::AddressPool pool;
  pool.meta.name = "bench-pool";
  pool.meta.namespace_name = kNs;
  pool.addresses = {"198.18.0.0/15"};
  o.pools = {pool};
  community::Peer peer;
  peer.meta.name = "router";
  peer.meta.namespace_name = kNs;
  peer.my_asn = 64512;
  peer.peer_asn = 64513;
  peer.peer_address = "198.51.100.2";
  o.peers = {peer};
  for (int i = 0; i < kServices; ++i) {
    o.services.push_back(Service{"svc-" + std::to_string(i),
                                 "ns-" + std::to_string(i % 100),
                                 "LoadBalancer",
                                 "Cluster",
                                 {Ip(i)},
                                 {{"app", "bench"}}});
  }
  o.node = {"node-a", {{"kubernetes.io/hostname", "node-a"}}};
  return o;
}

OutboundSession Session() {
  OutboundSession s;
  s.local_asn = Asn(64512);
  s.next_hops.ipv4 = IpAddress::V4(198, 51, 100, 1);
  s.families = {kIpv4Unicast};
  s.codec.four_octet_as = true;
  return s;
}

std::size_t HeapInUse() { return mallinfo2().uordblks; }

// The Services as the informer's store holds them (decoded once, shared).
std::vector<std::shared_ptr<const Service>> Shared(const SpeakerObjects& o) {
  std::vector<std::shared_ptr<const Service>> out;
  for (const Service& s : o.services) out.push_back(std::make_shared<const Service>(s));
  return out;
}

void Load(IncrementalRoutes& routes, const SpeakerObjects& o,
          const std::vector<std::shared_ptr<const Service>>& services) {
  routes.SetPeers(o.peers);
  routes.SetNode(o.node);
  for (const auto& pool : o.pools) {
    routes.SetPool(std::make_shared<const community::AddressPool>(pool));
  }
  for (const auto& adv : o.advertisements) {
    routes.SetAdvertisement(std::make_shared<const community::Advertisement>(adv));
  }
  for (const auto& s : services) routes.SetService(s);
  routes.Commit();
}

// Every iteration moves one Service to an address no Service holds, then back on the
// next (so the table keeps its size).
void BM_SpeakerServiceAddressChange(benchmark::State& state) {
  SpeakerObjects o = Objects();
  IncrementalRoutes routes;
  Load(routes, o, Shared(o));
  routes.TakeChanges();
  RouteSet table = routes.RoutesOf("router");
  AdjRibOut rib;
  rib.Start(Session(), table);
  std::size_t messages = 0;
  int i = 0;
  for (auto _ : state) {
    Service s = o.services[static_cast<std::size_t>(i / 2 % kServices)];
    if (i % 2 == 0) s.ingress_ips = {Ip(kServices + i / 2 % kServices)};
    ++i;
    routes.SetService(std::make_shared<const Service>(std::move(s)));
    routes.Commit();
    auto changes = routes.TakeChanges();
    const std::vector<RouteChange>& mine = changes.at("router");
    table.Apply(mine);
    RibOutput out = rib.Change(mine);
    messages += out.messages.size();
    benchmark::DoNotOptimize(out.messages.data());
  }
  state.counters["UPDATEs/change"] =
      static_cast<double>(messages) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SpeakerServiceAddressChange)->Unit(benchmark::kMicrosecond);

// Baseline: one change as the speaker handled it before (snapshot copy, full recompute,
// whole-table diff), alternating the same two states.
void BM_Baseline_SpeakerFullRecomputePerChange(benchmark::State& state) {
  SpeakerObjects o = Objects();
  AdjRibOut rib;
  rib.Start(Session(), ComputeDesiredRoutes(o).by_peer.at("router"));
  int i = 0;
  for (auto _ : state) {
    Service& s = o.services[static_cast<std::size_t>(i / 2 % kServices)];
    std::string before = s.ingress_ips[0];
    s.ingress_ips = {Ip(kServices + i / 2 % kServices)};
    SpeakerObjects snapshot = o;
    DesiredRoutes d = ComputeDesiredRoutes(snapshot);
    RibOutput out = rib.Update(d.by_peer.at("router"));
    benchmark::DoNotOptimize(out.messages.data());
    s.ingress_ips = {before};  // the baseline's every change moves one Service away
    ++i;
  }
}
BENCHMARK(BM_Baseline_SpeakerFullRecomputePerChange)->Unit(benchmark::kMillisecond);

// Initial sync: 100,000 Services (already decoded, as the informer holds them) into an
// empty IncrementalRoutes, one Commit, the table.
void BM_SpeakerInitialLoad(benchmark::State& state) {
  SpeakerObjects o = Objects();
  auto services = Shared(o);
  for (auto _ : state) {
    auto routes = std::make_unique<IncrementalRoutes>();
    Load(*routes, o, services);
    RouteSet table = routes->RoutesOf("router");
    benchmark::DoNotOptimize(table.size());
    state.PauseTiming();  // freeing it is not part of a start
    routes.reset();
    state.ResumeTiming();
  }
  std::size_t before = HeapInUse();
  {
    auto kept = std::make_unique<IncrementalRoutes>();
    std::vector<std::shared_ptr<const Service>> shared;  // as the informer holds them
    for (const Service& s : o.services) shared.push_back(std::make_shared<const Service>(s));
    std::size_t with_services = HeapInUse();
    kept->SetPeers(o.peers);
    kept->SetNode(o.node);
    kept->SetPool(std::make_shared<const community::AddressPool>(o.pools[0]));
    kept->SetAdvertisement(std::make_shared<const community::Advertisement>(o.advertisements[0]));
    for (const auto& s : shared) kept->SetService(s);
    kept->Commit();
    kept->TakeChanges();
    state.counters["heap_B/service"] = static_cast<double>(HeapInUse() - with_services) / kServices;
    state.counters["services_heap_B/service"] =
        static_cast<double>(with_services - before) / kServices;
  }
}
BENCHMARK(BM_SpeakerInitialLoad)->Unit(benchmark::kMillisecond);

// Baseline of the initial load: ComputeDesiredRoutes over the same objects.
void BM_Baseline_SpeakerComputeDesiredRoutes(benchmark::State& state) {
  SpeakerObjects o = Objects();
  for (auto _ : state) {
    DesiredRoutes d = ComputeDesiredRoutes(o);
    benchmark::DoNotOptimize(d.by_peer.size());
  }
}
BENCHMARK(BM_Baseline_SpeakerComputeDesiredRoutes)->Unit(benchmark::kMillisecond);

// An advertisement's communities change: every one of the 100,000 routes changes.
void BM_SpeakerAdvertisementChangeAllRoutes(benchmark::State& state) {
  SpeakerObjects o = Objects();
  IncrementalRoutes routes;
  Load(routes, o, Shared(o));
  routes.TakeChanges();
  RouteSet table = routes.RoutesOf("router");
  AdjRibOut rib;
  rib.Start(Session(), table);
  int i = 0;
  for (auto _ : state) {
    routes.SetAdvertisement(std::make_shared<const community::Advertisement>(
        Advertisement(i++ % 2 == 0 ? "64512:101" : "64512:100")));
    routes.Commit();
    auto changes = routes.TakeChanges();
    table.Apply(changes.at("router"));
    RibOutput out = rib.Change(changes.at("router"));
    benchmark::DoNotOptimize(out.messages.data());
  }
}
BENCHMARK(BM_SpeakerAdvertisementChangeAllRoutes)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bgpcomm::speaker

BENCHMARK_MAIN();
