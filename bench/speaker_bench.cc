// The speaker's route path after the objects are decoded (issue #5 item 8): computing the
// desired routes and encoding the full table for a new session, at the benchmark shape of
// bench/speaker_convergence.sh with 1,000 IPs per Service (N /32 routes from 198.18.0.0/15
// sharing one attribute set, one eBGP IPv4 peer). Baseline in the same run: parsing the N
// ingress IPs into prefixes, the part no route computation can avoid.
//
// Counters: heap_B/route is what the result of one iteration keeps allocated on the heap
// (glibc mallinfo2, measured outside the timed loop), per route.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "community/annotation.h"
#include "community/ip_prefix.h"
#include "speaker/adj_rib_out.h"
#include "speaker/desired_routes.h"
#include "speaker/prefix_conversion.h"

namespace bgpcomm::speaker {
namespace {

constexpr char kNs[] = "metallb-system";
constexpr int kIpsPerService = 1000;

std::string Ip(int i) {  // the i-th address of 198.18.0.0/15
  return "198." + std::to_string(18 + i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
         std::to_string(i % 256);
}

SpeakerObjects Objects(int routes) {
  SpeakerObjects o;
  community::Advertisement adv;
  adv.meta.name = "advert";
  adv.meta.namespace_name = kNs;
  adv.communities = {"primary-route", "backup-route", "region"};
  adv.meta.annotations[std::string(community::kResolvedAnnotation)] = community::EncodeAnnotation(
      {adv.communities, {"64512:100", "64512:200", "large:64512:1:100"}, {}});
  adv.ip_address_pools = {"bench-pool"};
  o.advertisements = {adv};
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
  for (int i = 0; i < routes; i += kIpsPerService) {
    Service s{
        "svc-" + std::to_string(i / kIpsPerService), "default", "LoadBalancer", "Cluster", {}};
    for (int j = i; j < std::min(routes, i + kIpsPerService); ++j) s.ingress_ips.push_back(Ip(j));
    o.services.push_back(std::move(s));
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

// Baseline: the ingress IPs parsed into /32 prefixes, nothing else.
void BM_ParseIngressPrefixes(benchmark::State& state) {
  SpeakerObjects o = Objects(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    std::vector<IpPrefix> prefixes;
    for (const Service& s : o.services) {
      for (const std::string& text : s.ingress_ips) {
        auto ip = community::ParseAddress(text);
        prefixes.push_back(*FromCommunityPrefix(community::Truncate(*ip, 32)));
      }
    }
    benchmark::DoNotOptimize(prefixes.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseIngressPrefixes)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_ComputeDesiredRoutes(benchmark::State& state) {
  SpeakerObjects o = Objects(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    DesiredRoutes d = ComputeDesiredRoutes(o);
    benchmark::DoNotOptimize(d.by_peer.size());
  }
  std::size_t before = HeapInUse();
  DesiredRoutes kept = ComputeDesiredRoutes(o);
  state.counters["heap_B/route"] = static_cast<double>(HeapInUse() - before) /
                                   static_cast<double>(kept.by_peer.at("router").size());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ComputeDesiredRoutes)->Arg(100000)->Unit(benchmark::kMillisecond);

// A new session: the full table packed into UPDATEs, then End-of-RIB.
void BM_AdjRibOutStart(benchmark::State& state) {
  const RouteSet desired =
      ComputeDesiredRoutes(Objects(static_cast<int>(state.range(0)))).by_peer.at("router");
  std::size_t messages = 0;
  for (auto _ : state) {
    AdjRibOut rib;
    RibOutput out = rib.Start(Session(), desired);
    messages = out.messages.size();
    benchmark::DoNotOptimize(out.messages.data());
  }
  std::size_t before = HeapInUse();
  AdjRibOut kept;
  kept.Start(Session(), desired);  // the output is dropped: what the Adj-RIB-Out keeps
  state.counters["heap_B/route"] =
      static_cast<double>(HeapInUse() - before) / static_cast<double>(desired.size());
  state.counters["messages"] = static_cast<double>(messages);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AdjRibOutStart)->Arg(100000)->Unit(benchmark::kMillisecond);

// The objects were reapplied and nothing changed: the diff finds nothing to send.
void BM_AdjRibOutUpdateUnchanged(benchmark::State& state) {
  const RouteSet desired =
      ComputeDesiredRoutes(Objects(static_cast<int>(state.range(0)))).by_peer.at("router");
  AdjRibOut rib;
  rib.Start(Session(), desired);
  for (auto _ : state) {
    RibOutput out = rib.Update(desired);
    benchmark::DoNotOptimize(out.messages.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AdjRibOutUpdateUnchanged)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bgpcomm::speaker

BENCHMARK_MAIN();
