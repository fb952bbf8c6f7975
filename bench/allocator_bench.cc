// allocator_bench MODE [SERVICES] [CHANGES]: the allocation core on N LoadBalancer Services
// over mixed IPv4/IPv6 pools (bench/allocator_bench.sh runs every mode, each in its own
// process so that its peak RSS is its own, and writes the block of bench/RESULTS.md).
//
//   inputs       builds the Services and copies them once: the baseline floor (touching
//                every input once) and the memory the inputs alone take
//   allocate     AllocateAll from scratch (what `bgpcomm routes` and a cold start do)
//   restart      the same Services with every status held (a leader change): UpsertAll
//   incremental  an Allocator holding them all, then CHANGES single-Service changes (a label
//                edit, its status write, a delete and a re-create), each timed
//
// Prints one line of key=value pairs: mode, services, median_ms (CPU time, median of 5
// repetitions where the mode repeats), per_change_us, allocated, failed, peak_rss_kib.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "allocator/allocator.h"

namespace {

using bgpcomm::allocator::AllocateAll;
using bgpcomm::allocator::Allocator;
using bgpcomm::allocator::IpFamily;
using bgpcomm::allocator::IpFamilyPolicy;
using bgpcomm::allocator::Service;
using bgpcomm::allocator::TrafficPolicy;
// CPU time of the process: the machine is shared, so wall time would measure the others.
struct Clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<Clock, duration>;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return time_point(duration(std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec));
  }
};

std::vector<bgpcomm::community::AddressPool> Pools() {
  auto pool = [](std::string name, std::vector<std::string> addresses) {
    bgpcomm::community::AddressPool p;
    p.meta.name = std::move(name);
    p.meta.namespace_name = "metallb-system";
    p.addresses = std::move(addresses);
    return p;
  };
  std::vector<bgpcomm::community::AddressPool> pools;
  // Tried by name when no serviceAllocation applies: IPv6 first, then IPv4, then dual.
  auto v4 = pool("b-v4", {"198.18.0.0/16"});  // 65,024 addresses without .0/.255
  v4.avoid_buggy_ips = true;
  pools.push_back(v4);
  // A pool for ten namespaces, first by priority.
  auto teams = pool("teams", {"198.19.0.0/17"});
  teams.service_allocation = bgpcomm::community::ServiceAllocation{.priority = 10};
  for (int i = 0; i < 10; ++i)
    teams.service_allocation->namespaces.push_back("ns" + std::to_string(i));
  pools.push_back(teams);
  pools.push_back(pool("a-v6", {"2001:db8::/64"}));
  pools.push_back(pool(
      "c-dual", {"198.19.128.0/18", "198.19.192.0/19", "198.19.224.0/20", "2001:db8:1::/112"}));
  // Addresses named by loadBalancerIPs, never given automatically.
  auto manual = pool("manual", {"198.19.248.0/21"});
  manual.auto_assign = false;
  pools.push_back(manual);
  return pools;
}

// The mix: 60% IPv4, 20% IPv6, 12% PreferDualStack, 5% RequireDualStack, 3% named pool;
// 10% share an address in pairs (same key, different ports); 2% name an address.
std::vector<Service> Services(int n) {
  std::vector<Service> out;
  out.reserve(n);
  for (int i = 0; i < n; ++i) {
    Service s;
    s.namespace_name = "ns" + std::to_string(i % 100);
    s.name = "svc-" + std::to_string(i);
    s.labels = {{"app", "app-" + std::to_string(i % 50)}};
    s.namespace_labels = {{"kubernetes.io/metadata.name", s.namespace_name}};
    s.ports = {{"TCP", 80}};
    const int kind = i % 100;
    if (kind < 60) {
      s.ip_families = {IpFamily::kIPv4};
    } else if (kind < 80) {
      s.ip_families = {IpFamily::kIPv6};
    } else if (kind < 92) {
      s.ip_families = {IpFamily::kIPv4, IpFamily::kIPv6};
      s.ip_family_policy = IpFamilyPolicy::kPreferDualStack;
    } else if (kind < 97) {
      s.ip_families = {IpFamily::kIPv4, IpFamily::kIPv6};
      s.ip_family_policy = IpFamilyPolicy::kRequireDualStack;
    } else {
      s.ip_families = {IpFamily::kIPv4};
      s.annotations["metallb.io/address-pool"] = "c-dual";
    }
    if (i % 10 == 1 && kind < 60) {  // pairs sharing one address: i and i + 10
      s.annotations["metallb.io/allow-shared-ip"] = "pair-" + std::to_string(i / 20);
      s.ports = {{"TCP", static_cast<std::int64_t>(8000 + (i / 10) % 2)}};
    }
    if (i % 50 == 7 && kind < 60) {
      const int k = i / 50;
      s.annotations["metallb.io/loadBalancerIPs"] =
          "198.19." + std::to_string(248 + k / 250) + "." + std::to_string(1 + k % 250);
    }
    if (i % 7 == 0) {
      s.external_traffic_policy = TrafficPolicy::kLocal;
      s.selector = {{"app", "app-" + std::to_string(i % 50)}};
    }
    out.push_back(std::move(s));
  }
  return out;
}

long PeakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: allocator_bench inputs|allocate|restart|incremental [N] [CHANGES]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const int n = argc > 2 ? std::atoi(argv[2]) : 100000;
  const int changes = argc > 3 ? std::atoi(argv[3]) : 10000;
  const auto pools = Pools();
  const std::vector<Service> services = Services(n);
  std::size_t allocated = 0, failed = 0;
  auto tally = [&](const std::vector<bgpcomm::allocator::Result>& results) {
    allocated = failed = 0;
    for (const auto& r : results) (r.ok() ? allocated : failed)++;
  };

  if (mode == "inputs") {
    std::vector<double> times;
    std::size_t sink = 0;
    for (int rep = 0; rep < 5; ++rep) {
      auto start = Clock::now();
      std::vector<Service> copy = services;
      times.push_back(Ms(Clock::now() - start));
      sink += copy.size();
    }
    std::printf("mode=inputs services=%d median_ms=%.1f copied=%zu peak_rss_kib=%ld\n", n,
                Median(times), sink / 5, PeakRssKib());
    return 0;
  }
  if (mode == "allocate" || mode == "restart") {
    std::vector<Service> input = services;
    if (mode == "restart") {
      auto first = AllocateAll(pools, services);
      if (!first) return 1;
      for (std::size_t i = 0; i < input.size(); ++i) input[i].held = first->results[i].addresses;
    }
    std::vector<double> times;
    for (int rep = 0; rep < 5; ++rep) {
      auto start = Clock::now();
      auto all = AllocateAll(pools, input);
      times.push_back(Ms(Clock::now() - start));
      if (!all) return 1;
      tally(all->results);
      if (mode == "restart")
        for (std::size_t i = 0; i < input.size(); ++i)
          if (all->results[i].addresses != input[i].held) {
            std::fprintf(stderr, "%s moved on restart\n", input[i].Key().c_str());
            return 1;
          }
    }
    std::printf("mode=%s services=%d median_ms=%.1f allocated=%zu failed=%zu peak_rss_kib=%ld\n",
                mode.c_str(), n, Median(times), allocated, failed, PeakRssKib());
    return 0;
  }
  if (mode == "incremental") {
    Allocator allocator;
    if (!allocator.SetPools(pools)) return 1;
    auto start = Clock::now();
    allocator.UpsertAll(services);
    const double initial_ms = Ms(Clock::now() - start);
    std::vector<Service> current = services;
    for (auto& s : current) s.held = allocator.Find(s.Key())->addresses;
    // Each change as the controller sees it: an edit, then its own status write; every
    // fourth change a delete and a re-create (with the status written) instead.
    std::vector<double> per_change;
    per_change.reserve(changes);
    for (int c = 0; c < changes; ++c) {
      Service& s = current[(static_cast<std::size_t>(c) * 7919) % current.size()];
      auto t0 = Clock::now();
      if (c % 4 == 3) {
        allocator.Remove(s.Key());
        Service fresh = s;
        fresh.held.clear();
        allocator.Upsert(fresh);
      } else {
        s.labels["revision"] = std::to_string(c);
        allocator.Upsert(s);
      }
      s.held = allocator.Find(s.Key())->addresses;
      allocator.Upsert(s);
      per_change.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    for (const auto& s : current) (allocator.Find(s.Key())->ok() ? allocated : failed)++;
    std::sort(per_change.begin(), per_change.end());
    std::printf(
        "mode=incremental services=%d initial_ms=%.1f changes=%d per_change_us=%.2f "
        "p99_change_us=%.2f allocated=%zu failed=%zu peak_rss_kib=%ld\n",
        n, initial_ms, changes, per_change[per_change.size() / 2],
        per_change[per_change.size() * 99 / 100], allocated, failed, PeakRssKib());
    return 0;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
